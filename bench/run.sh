#!/bin/sh
# Benchmarks, run by hand (`make bench`), never as timed tests. Prints our
# numbers beside Postfix's measured in the same run, and the ratios.
set -eu
B=${BUILD:-build}
N=${N:-1000000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/pm-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cc -O2 -Ilib -o "$dir/route_lookup" bench/route_lookup.c "$B/libpostmaster.a" -lcdb

echo "== compile $N routes: postmaster-cfcompile vs postmap cdb:"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "user%d@example.org user%d\n", i, i }' >"$dir/routes"
cp "$dir/routes" "$dir/postfix-map"
printf 'file "%s/routes"\n' "$dir" >"$dir/pm.cf"
now() { date +%s.%N; }
t0=$(now); "$B/postmaster-cfcompile" -c "$dir/pm.cf" -o "$dir/pm.cdb"; t1=$(now)
mkdir "$dir/pf"; : >"$dir/pf/main.cf"   # postmap wants a config directory
postmap -c "$dir/pf" cdb:"$dir/postfix-map"; t2=$(now)
ours=$(echo "$t1 - $t0" | bc); theirs=$(echo "$t2 - $t1" | bc)
printf 'postmaster-cfcompile: %.2f s\npostmap cdb:        : %.2f s\nratio (postmap/ours): %.2f (>= 1 means we are no slower)\n' \
	"$ours" "$theirs" "$(echo "$theirs / $ours" | bc -l)"
echo "== lookups through the routing engine (one core)"
"$dir/route_lookup" "$dir/pm.cdb" "$N"
echo "== postmaster-smtpd vs a private Postfix (bench/smtpd.sh; root)"
if [ "$(id -u)" = 0 ]; then BUILD="$B" sh bench/smtpd.sh; else echo "skipped: needs root"; fi
echo "== postmaster-queue end to end vs a private Postfix, and the 100,000-message scan (bench/queue.sh; root)"
if [ "$(id -u)" = 0 ]; then BUILD="$B" sh bench/queue.sh; else echo "skipped: needs root"; fi
echo "== postmaster-queue under 500 SIGKILLs during delivery (bench/crash.sh; root)"
if [ "$(id -u)" = 0 ]; then BUILD="$B" sh bench/crash.sh; else echo "skipped: needs root"; fi
echo "== [smtpd] spf: CPU per transaction, postmaster-spf start-up and one check (bench/spf.py; root)"
if [ "$(id -u)" = 0 ]; then BUILD="$B" python3 bench/spf.py; else echo "skipped: needs root"; fi
echo "== postmaster-smtpd pipelining = full|ultra vs direct vs Postfix smtpd_proxy_filter (bench/proxy.sh; root)"
if [ "$(id -u)" = 0 ]; then BUILD="$B" sh bench/proxy.sh; else echo "skipped: needs root"; fi
