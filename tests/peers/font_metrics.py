#!/usr/bin/env python3
"""font_metrics.py — a glyph's metrics at 24 px by fontTools (an independent reader of the font
file, not FreeType), for tests/browser/labels.test.mjs to check the glyph PBFs against.

    font_metrics.py FONT_FILE FAMILY STYLE CODEPOINT...

Prints JSON: {"ascender": px, "glyphs": {cp: {"advance", "xmin", "xmax", "ymin", "ymax"}}} in
pixels at 24 px per em (unrounded), ascender from the hhea table.  Exit 77 without fontTools.
"""
import json
import sys

try:
    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.ttLib import TTCollection, TTFont
except ImportError:
    print("fontTools is missing (Debian: python3-fonttools)", file=sys.stderr)
    sys.exit(77)


def face(path, family, style):
    fonts = TTCollection(path).fonts if path.endswith(".ttc") else [TTFont(path)]
    for f in fonts:
        name = f["name"]
        if name.getDebugName(1) == family and name.getDebugName(2) == style:
            return f
    sys.exit(f"no face {family} {style} in {path}")


def main():
    path, family, style = sys.argv[1:4]
    f = face(path, family, style)
    scale = 24.0 / f["head"].unitsPerEm
    cmap, gs = f.getBestCmap(), f.getGlyphSet()
    out = {"ascender": f["hhea"].ascent * scale, "glyphs": {}}
    for cp in map(int, sys.argv[4:]):
        g = cmap.get(cp)
        if g is None:
            continue
        pen = BoundsPen(gs)
        gs[g].draw(pen)
        b = pen.bounds or (0, 0, 0, 0)
        out["glyphs"][cp] = {"advance": f["hmtx"][g][0] * scale, "xmin": b[0] * scale,
                             "ymin": b[1] * scale, "xmax": b[2] * scale, "ymax": b[3] * scale}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
