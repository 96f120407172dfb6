#!/bin/sh
# What one pipelining = ultra session of postmaster-smtpd costs, split into
# the session and each message: CPU (task-clock), page faults and system
# calls, for one or more builds in the same run (issue 12: on a VM where a
# page fault or a fork+exec is dear, count them, not only instructions).
# By hand, as root, loopback only; every server it starts it stops.
#
#   sh bench/proxy_cost.sh BUILD [BUILD...]        M=21 SIZE=4096
#
# Per build: smtp-sink as the backend, smtpd under tcpserver with every
# recipient routed to one [relay] there, and smtp-source sending first 1,
# then M messages over one connection (HELO, one command at a time).
# perf stat counts smtpd's task-clock and page faults, strace -c its
# system calls; "per message" is (M messages - 1 message) / (M - 1),
# "session" what the 1-message session cost.
set -eu
M=${M:-21}
SIZE=${SIZE:-4096}
[ "$(id -u)" = 0 ] || { echo "proxy_cost.sh: run as root" >&2; exit 1; }
for t in perf strace tcpserver smtp-source smtp-sink python3; do
	command -v $t >/dev/null || { echo "proxy_cost.sh: $t missing" >&2; exit 1; }
done
[ $# -gt 0 ] || { echo "usage: proxy_cost.sh BUILD [BUILD...]" >&2; exit 64; }
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
top=$(mktemp -d "${TMPDIR:-/tmp}/pm-bench-cost.XXXXXX")
chmod 755 "$top"
sink= ts=
trap 'kill $sink $ts 2>/dev/null; rm -rf "$top"' EXIT
sp=$(port)
smtp-sink -u postfix 127.0.0.1:"$sp" 64 &
sink=$!

# one session of $2 messages through build $1 under $3 (perf|strace): the counts
run() {
	d=$(mktemp -d "$top/run.XXXXXX")
	chmod 755 "$d"
	mkdir "$d/spool"
	chown nobody:nogroup "$d/spool"
	cat >"$d/pm.cf" <<EOC
[core]
hostname = pm.bench.test
user-id = nobody
group-id = nogroup
spool-directory = "$d/spool"
[relay "backend"]
address = 127.0.0.1:$sp
[smtpd "ultra"]
routing-table = one
pipelining = ultra
[route "one"]
@example.test backend
EOC
	"$1/postmaster-cfcompile" -c "$d/pm.cf" -o "$d/pm.cdb"
	p=$(port)
	if [ "$3" = perf ]; then
		set -- "$1" "$2" perf stat -x, -e task-clock,page-faults -o "$d/out"
	else
		set -- "$1" "$2" strace -f -c -o "$d/out"
	fi
	b=$1 m=$2
	shift 2
	tcpserver -R -H -l 0 127.0.0.1 "$p" "$@" "$b/postmaster-smtpd" \
	    -C "$d/pm.cdb" ultra 2>/dev/null &
	ts=$!
	python3 "$(dirname "$0")/smtpd_probe.py" wait-port "$p"
	smtp-source -d -f bench@client.test -t user@example.test \
	    -M client.test -s 1 -m "$m" -l "$SIZE" 127.0.0.1:"$p"
	# the session is over when its counts are written
	i=0
	while ! grep -q 'task-clock\|total' "$d/out" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill $ts; wait $ts 2>/dev/null || true
	ts=
	if [ "$1" = perf ]; then
		awk -F, '/task-clock/ { t = $1 } /page-faults/ { f = $1 }
		    END { print t, f }' "$d/out"
	else
		# % time, seconds, usecs/call, calls [, errors], "total"
		awk '$NF == "total" { print $4 }' "$d/out"
	fi
}

printf '%-36s %22s %22s %22s\n' "build (M=$M, SIZE=$SIZE)" \
    "CPU ms session/msg" "faults session/msg" "syscalls session/msg"
for B in "$@"; do
	B=$(cd "$B" && pwd)
	set -- $(run "$B" 1 perf) $(run "$B" "$M" perf) \
	    $(run "$B" 1 strace) $(run "$B" "$M" strace)
	awk -v b="$B" -v m="$M" -v t1="$1" -v f1="$2" -v tm="$3" -v fm="$4" \
	    -v s1="$5" -v sm="$6" 'BEGIN {
		printf "%-36s %10.2f /%9.3f %10d /%9.2f %10d /%9.1f\n", b,
		    t1, (tm - t1) / (m - 1), f1, (fm - f1) / (m - 1),
		    s1, (sm - s1) / (m - 1) }'
done
