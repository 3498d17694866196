#!/bin/sh
# fn_sizes.sh [LIMIT] [FILES…] — functions longer than LIMIT lines (default 100), longest first:
# "lines file:line name".  A function runs from a line opening with '{' in column 1 to the next
# '}' in column 1 (the layout every C file here uses); its name is on the last line before it that opens in column 1 with a '('.
limit=${1:-100}
shift 2>/dev/null
[ $# -gt 0 ] || set -- $(find geo tiles api data -name '*.c' | sort)
awk -v limit="$limit" '
  FNR == 1 { inside = 0 }
  /^[A-Za-z_].*\(/ && !inside { sig = $0 }
  /^\{/ && !inside { inside = 1; start = FNR; name = sig; next }
  /^\}/ && inside { inside = 0; n = FNR - start + 1
                    if (n > limit) { sub(/\(.*/, "", name); k = split(name, w, /[ *]+/)
                                     printf "%5d %s:%d %s\n", n, FILENAME, start, w[k] } }
  ' "$@" | sort -rn
