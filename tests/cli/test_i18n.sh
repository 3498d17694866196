#!/bin/sh
# test_i18n.sh — the command line in the user's language (docs/i18n.md): the same real commands
# under LANG=zh_CN.UTF-8 and LANG=C — --help (top level and commands), usage errors, option
# checks, an engine error (the ctx's message translated) — with the exit codes unchanged; the
# choice rules (LANGUAGE, LC_ALL over LANG, a non-UTF-8 zh locale stays English); and the
# manual page (tools/gen_man.sh) English whatever the caller's locale.  No zh_CN locale needs
# to be installed: the catalogue is compiled in.
# usage: test_i18n.sh PATH/TO/gridwatch SOURCE_DIR
set -u
GW=${1:?usage: test_i18n.sh gridwatch-binary source-dir}
SRC=${2:?usage: test_i18n.sh gridwatch-binary source-dir}
T=$(mktemp -d /tmp/gwi18n.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# run LOCALE WANT_EXIT CMD… — LANG=LOCALE with nothing else set; stdout in out, stderr in err
run() {
  loc=$1 want=$2; shift 2
  env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG="$loc" "$@" >"$T/out" 2>"$T/err"
  got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "LANG=$loc exit $got (want $want): $* :: $(head -c 300 "$T/err")"; fi
}
contains() { if grep -qF -- "$2" "$1"; then ok; else bad "$(basename "$1") lacks '$2': $(head -c 300 "$1")"; fi; }
lacks() { if grep -qF -- "$2" "$1"; then bad "$(basename "$1") has '$2': $(head -c 300 "$1")"; else ok; fi; }
ZH=zh_CN.UTF-8

# ---- --help ------------------------------------------------------------------------------
run $ZH 0 "$GW" --help
contains "$T/out" "用法：gridwatch <命令> [选项]"
contains "$T/out" "  init DB                     创建空的 gridwatch 数据库"
contains "$T/out" "退出码："
run C 0 "$GW" --help
contains "$T/out" "usage: gridwatch <command> [options]"
lacks "$T/out" "用法"
run $ZH 2 "$GW"
contains "$T/err" "用法：gridwatch"
for cmd in init import export gen-city stats serve demo tiles roads accounts token; do
  run $ZH 0 "$GW" $cmd --help
  contains "$T/out" "用法：gridwatch $cmd"
  run C 0 "$GW" $cmd --help
  contains "$T/out" "usage: gridwatch $cmd"
done
run $ZH 0 "$GW" serve --help
contains "$T/out" "  --bind ADDR          监听的 IPv4 地址（默认 127.0.0.1）"
run $ZH 0 "$GW" import x.db grids x.geojson --help
contains "$T/out" "  --encoding NAME       文件的文本编码"

# ---- usage errors and option checks (same exit codes) --------------------------------------
run $ZH 2 "$GW" frob
contains "$T/err" "gridwatch：未知命令“frob”（参见 'gridwatch --help'）"
run C 2 "$GW" frob
contains "$T/err" "gridwatch: unknown command 'frob' (see 'gridwatch --help')"
run $ZH 2 "$GW" init
contains "$T/err" "gridwatch init: 需要且只需要一个参数：数据库文件（参见 'gridwatch init --help'）"
run C 2 "$GW" init
contains "$T/err" "gridwatch init: expected exactly one argument, the database file (see 'gridwatch init --help')"
run $ZH 2 "$GW" init "$T/x.db" --tz Mars/Olympus
contains "$T/err" "--tz“Mars/Olympus”不是时区"
run C 2 "$GW" init "$T/x.db" --tz Mars/Olympus
contains "$T/err" "--tz 'Mars/Olympus' is not a time zone"
run $ZH 2 "$GW" import "$T/x.db" nope file.csv
contains "$T/err" "未知图层“nope”"
run $ZH 2 "$GW" serve --port 99999 "$T/x.db"
contains "$T/err" "gridwatch serve：--port“99999”不是端口号（0-65535）"
run C 2 "$GW" serve --port 99999 "$T/x.db"
contains "$T/err" "gridwatch serve: --port '99999' is not a port number (0-65535)"

# ---- an engine error: the ctx's English format and arguments, translated at the CLI ------------
run C 0 "$GW" init "$T/city.db"
run $ZH 3 "$GW" export "$T/city.db" grids "$T/o.geojson" --srs bogus
contains "$T/err" "未知坐标参考系“bogus”"
run C 3 "$GW" export "$T/city.db" grids "$T/o.geojson" --srs bogus
contains "$T/err" "unknown CRS \"bogus\""
lacks "$T/err" "坐标"
run $ZH 1 "$GW" import "$T/city.db" incidents "$T/missing.csv"
contains "$T/err" "gridwatch import: 无法打开 $T/missing.csv"

# ---- how the language is chosen --------------------------------------------------------------
env LC_ALL=C LANG=$ZH "$GW" frob 2>"$T/err"
contains "$T/err" "unknown command"
env -u LC_ALL LANG=$ZH LANGUAGE=en "$GW" frob 2>"$T/err"
contains "$T/err" "unknown command"
env -u LC_ALL LANG=en_US.UTF-8 LANGUAGE=zh_CN:en "$GW" frob 2>"$T/err"
contains "$T/err" "未知命令"
env -u LC_ALL -u LANGUAGE LANG=en_US.UTF-8 LC_MESSAGES=$ZH "$GW" frob 2>"$T/err"
contains "$T/err" "未知命令"
env -u LC_ALL -u LANGUAGE LANG=zh_CN.GB18030 "$GW" frob 2>"$T/err" # we write UTF-8 only
contains "$T/err" "unknown command"
env -u LC_ALL -u LANGUAGE LANG=zh_TW.UTF-8 "$GW" frob 2>"$T/err"
contains "$T/err" "未知命令"

# ---- the manual page stays English --------------------------------------------------------
env -u LC_ALL LANG=$ZH sh "$SRC/tools/gen_man.sh" "$GW" "$T/zh.1" && ok || bad "gen_man.sh under $ZH"
env -u LC_ALL LANG=C sh "$SRC/tools/gen_man.sh" "$GW" "$T/c.1" && ok || bad "gen_man.sh under C"
if cmp -s "$T/zh.1" "$T/c.1"; then ok; else bad "gen_man.sh output depends on the locale"; fi
contains "$T/zh.1" "usage: gridwatch <command> [options]"
lacks "$T/zh.1" "用法"

echo "i18n cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
