#!/bin/sh
# i18n_update.sh [--check] — extract the translatable messages from the C sources into
# po/gridwatch.pot (xgettext) and merge them into po/zh_CN.po (msgmerge), so a new English
# message shows up there untranslated.  --check writes nothing: it exits 1 when the .pot is not
# what the sources give (the 'i18n_po' test runs it).  docs/i18n.md: how to add a message.
#
# Keywords: the format argument of every message function (gw_ctx_error, gw_ctx_error_at,
# gw_req_problem's title and detail, gw_req_fail, gw_cli_usage_error, gw_tr), and _() / N_()
# where a text is not a format argument (the CLI's --help blocks and report lines).
set -eu
cd "$(dirname "$0")/.."
check=0
[ "${1:-}" = "--check" ] && check=1
export LC_ALL=C
tmp=$(mktemp /tmp/gwpot.XXXXXX)
trap 'rm -f "$tmp" "$tmp.a" "$tmp.b"' EXIT
find api geo tiles data -name '*.c' | sort |
  xgettext --language=C --from-code=UTF-8 --no-location --no-wrap --add-comments=TRANSLATORS: \
    --package-name=gridwatch --msgid-bugs-address=https://github.com/gridwatch/gridwatch/issues \
    --keyword=_ --keyword=N_ --keyword=gw_tr:2 \
    --keyword=gw_ctx_error:3 --flag=gw_ctx_error:3:c-format \
    --keyword=gw_ctx_error_at:4 --flag=gw_ctx_error_at:4:c-format \
    --keyword=gw_req_problem:4 --flag=gw_req_problem:4:c-format \
    --keyword=gw_req_fail:4 --flag=gw_req_fail:4:c-format \
    --keyword=gw_cli_usage_error:2 --flag=gw_cli_usage_error:2:c-format \
    --flag=gw_tr_format:5:c-format --keyword=gw_cli_eprintf:2 --keyword=gw_tr_why:3 --flag=gw_tr_why:3:c-format --flag=gw_cli_eprintf:2:c-format \
    --files-from=- --output="$tmp"
# the creation date changes on every run: not a difference
strip() { grep -v '^"POT-Creation-Date:' "$1"; }
if [ $check = 1 ]; then
  strip po/gridwatch.pot >"$tmp.a"
  strip "$tmp" >"$tmp.b"
  if ! cmp -s "$tmp.a" "$tmp.b"; then
    echo "i18n_update: po/gridwatch.pot is not what the sources give; run tools/i18n_update.sh"
    diff "$tmp.a" "$tmp.b" | head -40
    exit 1
  fi
  exit 0
fi
cp "$tmp" po/gridwatch.pot
if [ -f po/zh_CN.po ]; then
  msgmerge --quiet --no-wrap --no-fuzzy-matching --update --backup=none po/zh_CN.po po/gridwatch.pot
else
  msginit --no-translator --no-wrap --locale=zh_CN.UTF-8 --input=po/gridwatch.pot --output=po/zh_CN.po
fi
msgfmt --check-format -c --statistics -o /dev/null po/zh_CN.po
