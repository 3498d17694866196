#!/bin/sh
# test_i18n_po.sh — the message catalogue (docs/i18n.md): po/zh_CN.po passes msgfmt's checks
# (--check-format: every translation keeps its English format's conversions, so a wrong %s/%d
# cannot crash a printf), po/gridwatch.pot is what xgettext finds in the sources today (a new
# English message cannot go unnoticed), zh_CN.po has every msgid of the .pot, no entry is fuzzy,
# and the messages that must be Chinese are (every problem title and auth reason, the --help of the top level
# and the main commands).  Prints how many messages are translated; untranslated ones are shown
# in English and do not fail the test.
# usage: test_i18n_po.sh SOURCE_DIR   (exit 77 without the gettext tools)
set -u
SRC=${1:?usage: test_i18n_po.sh source-dir}
for tool in msgfmt msgcmp xgettext python3; do
  command -v $tool >/dev/null 2>&1 || { echo "SKIP: no $tool"; exit 77; }
done
cd "$SRC" || exit 1
fail=0
export LC_ALL=C
msgfmt --check-format -c --statistics -o /dev/null po/zh_CN.po || { echo "FAIL: msgfmt -c"; fail=1; }
sh tools/i18n_update.sh --check || fail=1
msgcmp --use-untranslated po/zh_CN.po po/gridwatch.pot ||
  { echo "FAIL: po/zh_CN.po lacks msgids of po/gridwatch.pot: run tools/i18n_update.sh"; fail=1; }
python3 - po/zh_CN.po <<'PY' || fail=1
import re, sys
sys.path.insert(0, 'tools')
from gen_catalog import parse_po
ents = parse_po(sys.argv[1])
fuzzy = [i for i, s, f in ents if f]
done = [i for i, s, f in ents if s and not f]
# problem titles and auth reasons: the N_() texts of the HTTP machinery (one-line literals)
marked = set()
for src in ('api/http/server.c', 'api/http/problem.c', 'api/service/auth.c', 'api/routes/web_http.c'):
    marked.update(re.findall(r'N_\("([^"\\]*)"\)', open(src, encoding='utf-8').read()))
must = [i for i, s, f in ents
        if i in marked
        or re.match(r'usage: gridwatch (init|import|export|gen-city|stats|serve|demo|tiles|roads|accounts|token)\b', i)
        or i.startswith('gridwatch — ')]
missing = [i for i in must if i not in done]
print('i18n_po: %d msgids, %d translated (%.0f%%), %d untranslated; %d required, all there: %s'
      % (len(ents), len(done), 100.0 * len(done) / max(1, len(ents)), len(ents) - len(done),
         len(must), 'yes' if not missing else 'no'))
for i in fuzzy:
    print('FAIL: fuzzy entry: %r' % i[:80])
for i in missing:
    print('FAIL: not translated but must be: %r' % i[:80])
sys.exit(1 if fuzzy or missing else 0)
PY
[ $fail -eq 0 ] && echo "i18n_po: ok"
exit $fail
