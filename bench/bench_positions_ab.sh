#!/bin/sh
# bench_positions_ab.sh — a same-run A/B of team positions over HTTP (issue 19 item 5a): servers
# of two builds (A, B) on copies of one city, both left to finish their start-up work, then
# alternate runs of `bench_positions http` (batches of 100, 4 connections) against each; prints
# positions/s and the server's CPU per position (utime + stime from /proc) per run.  On a shared
# machine the CPU figure is the one to compare.
# usage: bench/bench_positions_ab.sh BUILD_A BUILD_B CITY.db [ROUNDS=3] [SECONDS=8] [WORK=/tmp/gw_pos_ab]
set -u
BA=$1; BB=$2; CITY=$3; R=${4:-3}; DUR=${5:-8}; W=${6:-/tmp/gw_pos_ab}
mkdir -p "$W"
DRV=$BB/bench_positions
start() { # name build
  cp "$CITY" $W/$1.db; rm -f $W/$1.db-wal $W/$1.db-shm
  TOK=$($2/gridwatch token create $W/$1.db --role dispatcher --name bench | tail -n 1)
  $2/gridwatch serve $W/$1.db --port 0 --anonymous-read --quiet --threads 8 >$W/$1.log 2>&1 &
  echo "$! $TOK"
}
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"; }
set -- $(start A "$BA"); PA=$1; TA=$2
set -- $(start B "$BB"); PB=$1; TB=$2
UA=""; UB=""
while [ -z "$UA" ] || [ -z "$UB" ]; do sleep 0.5
UA=$(sed -n 's/.*"url":"\(http:[^"]*\)\/".*/\1/p' $W/A.log); UB=$(sed -n 's/.*"url":"\(http:[^"]*\)\/".*/\1/p' $W/B.log); done
a=$(cpu $PA); b=$(cpu $PB)
while sleep 3; a2=$(cpu $PA); b2=$(cpu $PB); [ "$(awk -v a=$a -v b=$a2 -v c=$b -v d=$b2 'BEGIN{print (b-a+d-c>=0.1)}')" = 1 ]; do a=$a2; b=$b2; done
echo "idle: A $(cpu $PA) B $(cpu $PB) CPU-s of start-up"
$DRV http "$CITY" "$UA" "$TA" 2 100 4 >/dev/null; $DRV http "$CITY" "$UB" "$TB" 2 100 4 >/dev/null
i=0
while [ $i -lt $R ]; do
  for x in A B; do
    if [ $x = A ]; then P=$PA U=$UA T=$TA; else P=$PB U=$UB T=$TB; fi
    c0=$(cpu $P); $DRV http "$CITY" "$U" "$T" $DUR 100 4 > $W/ab.txt; c1=$(cpu $P)
    S=$(sed -n 's/^RESULT http_sent //p' $W/ab.txt); V=$(sed -n 's/^RESULT http_positions_per_s //p' $W/ab.txt)
    P50=$(sed -n 's/^RESULT http_p50_ms //p' $W/ab.txt)
    awk -v x=$x -v a=$c0 -v b=$c1 -v n=$S -v v=$V -v p=$P50 -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN { printf "%s: %s pos/s p50 %s ms, server %.2f CPU-s for %d = %.0f per CPU-s (%.1f us), load %s\n", x, v, p, b-a, n, n/(b-a), (b-a)*1e6/n, l }'
  done
  i=$((i+1))
done
kill $PA $PB; wait
rm -f $W/A.db* $W/B.db*
