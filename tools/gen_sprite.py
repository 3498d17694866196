#!/usr/bin/env python3
"""gen_sprite.py — the map styles' sprite from the SVG icons of web/sprite/ (run by the build).

    tools/gen_sprite.py SVG_DIR OUT_DIR [RSVG_CONVERT]

Lays the icons side by side in one SVG (each a nested <svg> at its own x, 2 px apart), renders
it with rsvg-convert at 1x and 2x into OUT_DIR/sprite.png and sprite@2x.png, and writes the
MapLibre sprite indexes sprite.json and sprite@2x.json ({name: {x, y, width, height,
pixelRatio}}); an icon's name is its file name without .svg.  Standard library only.
"""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

SVG = "http://www.w3.org/2000/svg"
GAP = 2


def main():
    src, out = sys.argv[1], sys.argv[2]
    rsvg = sys.argv[3] if len(sys.argv) > 3 else "rsvg-convert"
    ET.register_namespace("", SVG)
    icons = []
    for name in sorted(f for f in os.listdir(src) if f.endswith(".svg")):
        root = ET.parse(os.path.join(src, name)).getroot()
        w, h = int(float(root.get("width"))), int(float(root.get("height")))
        icons.append((name[:-4], w, h, root))
    if not icons:
        sys.exit(f"gen_sprite: no SVG in {src}")
    total_w = sum(w for _, w, _, _ in icons) + GAP * (len(icons) - 1)
    total_h = max(h for _, _, h, _ in icons)
    sheet = ET.Element(f"{{{SVG}}}svg", {"width": str(total_w), "height": str(total_h),
                                          "viewBox": f"0 0 {total_w} {total_h}"})
    index, x = {}, 0
    for name, w, h, root in icons:
        root.set("x", str(x))
        root.set("y", "0")
        sheet.append(root)
        index[name] = {"x": x, "y": 0, "width": w, "height": h}
        x += w + GAP
    os.makedirs(out, exist_ok=True)
    sheet_path = os.path.join(out, "sprite.svg")
    ET.ElementTree(sheet).write(sheet_path, xml_declaration=True, encoding="utf-8")
    for ratio, suffix in ((1, ""), (2, "@2x")):
        subprocess.run([rsvg, "--zoom", str(ratio), "--format", "png", "-o",
                        os.path.join(out, f"sprite{suffix}.png"), sheet_path], check=True)
        scaled = {n: {k: v * ratio for k, v in r.items()} | {"pixelRatio": ratio}
                  for n, r in index.items()}
        with open(os.path.join(out, f"sprite{suffix}.json"), "w", encoding="utf-8") as f:
            json.dump(scaled, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
