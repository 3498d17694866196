#!/usr/bin/env python3
"""check_html.py FILE… — is each HTML page well-formed?  Python's html.parser reads it with a
strict element stack (every non-void element closed, in order; no stray end tags; attribute
values quoted; only known character references), then `xmllint --html` (libxml2's HTML parser,
when installed) must report no error other than not knowing HTML5's sectioning elements.  The
page must also declare <html lang>, <meta charset=utf-8> and a <title>.  Exit 0 when all pass;
otherwise one line per problem and exit 1.  Used by tests/http/test_ogc_html.c."""
import html.entities
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
HTML5 = {"header", "nav", "main", "section", "article", "aside", "footer"}


class Strict(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack, self.problems = [], []
        self.lang = self.charset = self.title = False

    def where(self):
        return "line %d col %d" % self.getpos()

    def handle_starttag(self, tag, attrs):
        if tag == "html" and any(k == "lang" and v for k, v in attrs):
            self.lang = True
        if tag == "meta" and any(k == "charset" and (v or "").lower() == "utf-8" for k, v in attrs):
            self.charset = True
        if tag == "title":
            self.title = True
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag not in VOID:
            self.problems.append("%s: self-closed <%s/>" % (self.where(), tag))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append("%s: </%s> while <%s> is open" %
                                 (self.where(), tag, self.stack[-1] if self.stack else "nothing"))
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
        else:
            self.stack.pop()

    def handle_entityref(self, name):
        if name not in html.entities.name2codepoint:
            self.problems.append("%s: unknown reference &%s;" % (self.where(), name))

    def unknown_decl(self, data):
        self.problems.append("%s: unknown declaration %r" % (self.where(), data[:40]))


def check(path):
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return ["not UTF-8: %s" % e]
    problems = []
    if not text.lower().startswith("<!doctype html>"):
        problems.append("no <!doctype html> first")
    # a raw '&' that does not start a reference (html.parser lets these through)
    # (script elements hold raw text: their content is left out)
    outside = re.sub(r"(?is)(<script\b[^>]*>).*?(</script>)", r"\1\2", text)
    for m in re.finditer(r"&(?![A-Za-z][A-Za-z0-9]*;|#[0-9]+;|#x[0-9A-Fa-f]+;)", outside):
        problems.append("offset %d: a bare '&'" % m.start())
    p = Strict()
    p.feed(text)
    p.close()
    problems += p.problems
    if p.stack:
        problems.append("unclosed at the end: %s" % " ".join(p.stack))
    if not (p.lang and p.charset and p.title):
        problems.append("missing <html lang>, <meta charset=utf-8> or <title>")
    if shutil.which("xmllint"):
        r = subprocess.run(["xmllint", "--html", "--noout", "--nonet", path], capture_output=True,
                           text=True)
        for line in r.stderr.splitlines():
            m = re.search(r"HTML parser error : (.*)", line)
            if not m:
                continue
            tag = re.match(r"Tag (\w+) invalid", m.group(1))
            if tag and tag.group(1) in HTML5:
                continue
            problems.append("xmllint: " + m.group(1))
    return problems


bad = 0
for f in sys.argv[1:]:
    for pr in check(f):
        print("%s: %s" % (f, pr))
        bad = 1
sys.exit(bad)
