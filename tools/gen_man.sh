#!/bin/sh
# gen_man.sh — the gridwatch(1) manual page, written from the program's own --help texts (the
# top-level usage, then one section per command), so the page cannot drift from the program.
# usage: tools/gen_man.sh BUILD/gridwatch OUT.1
set -eu
# the page is English whatever the caller's locale (the program's --help follows it: docs/i18n.md)
export LC_ALL=C
unset LANGUAGE LC_MESSAGES
bin=${1:?usage: gen_man.sh GRIDWATCH OUT.1}
out=${2:?usage: gen_man.sh GRIDWATCH OUT.1}
version=$("$bin" --version 2>/dev/null | sed -n '1s/^gridwatch \([^ ,]*\).*/\1/p')
# roff: a leading dot or quote is a request, a backslash an escape
esc() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\\&'/"; }
{
  printf '%s\n' '.TH GRIDWATCH 1 "" "gridwatch '"${version:-?}"'" "User Commands"'
  printf '%s\n' '.SH NAME'
  printf '%s\n' 'gridwatch \- grid mapping, camera coverage, hotspots and patrol dispatch for city grid management'
  printf '%s\n' '.SH SYNOPSIS'
  printf '%s\n' '.B gridwatch'
  printf '%s\n' '.I command'
  printf '%s\n' '[\fIoptions\fR]'
  printf '%s\n' '.SH DESCRIPTION'
  printf '%s\n' '.nf'
  "$bin" --help | esc
  printf '%s\n' '.fi'
  printf '%s\n' '.SH COMMANDS'
  for cmd in $("$bin" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' | grep -v '^version$'); do
    printf '%s\n' ".SS $cmd"
    printf '%s\n' '.nf'
    "$bin" "$cmd" --help 2>&1 | esc
    printf '%s\n' '.fi'
  done
  printf '%s\n' '.SH FILES'
  printf '%s\n' '.TP'
  printf '%s\n' '.I /etc/gridwatch/gridwatch.conf'
  printf '%s\n' 'settings of the gridwatch service (see \fBserve --config\fR)'
  printf '%s\n' '.TP'
  printf '%s\n' '.I /usr/share/gridwatch/web'
  printf '%s\n' 'the map wall page served at /wall/'
  printf '%s\n' '.SH SEE ALSO'
  printf '%s\n' 'The project documentation in docs/ of the source tree.'
} >"$out"
