#!/bin/sh
# Instructions per message, counted by valgrind's callgrind: deterministic,
# so two builds compare on a loaded machine where CPU seconds do not
# (bench/queue.sh and bench/smtpd.sh measure time against Postfix).
# By hand, as root, loopback only; every server it starts it stops.
#
#   sh bench/instr.sh BUILD [BUILD...]      SIZE=4096 M=20
#
# Per build: M messages of SIZE octets from smtp-source, one per
# connection, into postmaster-smtpd under tcpserver (started as nobody,
# under callgrind), then `postmaster-queue --once` under callgrind with
# its workers to a [relay] that is smtp-sink. Prints user-space
# instructions per message of smtpd (whole process: exec to exit) and of
# the runner (all its processes, run as nobody, so no delivery as another
# user; counted from main() on: a forked worker's file repeats what its
# parent had counted when it forked, and the dynamic loader's start-up,
# before main(), is the runner's and not the messages'). Kernel work (fork, exec, fsync, copies)
# is not in these counts.
set -eu
SIZE=${SIZE:-4096}
M=${M:-20}
[ "$(id -u)" = 0 ] || { echo "instr.sh: run as root" >&2; exit 1; }
for t in valgrind tcpserver smtp-source smtp-sink python3; do
	command -v $t >/dev/null || { echo "instr.sh: $t missing" >&2; exit 1; }
done
[ $# -gt 0 ] || { echo "usage: instr.sh BUILD [BUILD...]" >&2; exit 64; }
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
sum() { # sum FILES...: callgrind totals
	t=0
	for f in "$@"; do
		n=$(sed -n 's/^\(summary\|totals\): \([0-9]*\).*/\2/p' "$f" | head -1)
		t=$((t + ${n:-0}))
	done
	echo $t
}
top=$(mktemp -d "${TMPDIR:-/tmp}/pm-bench-instr.XXXXXX")
chmod 755 "$top"
sink= ts=
trap 'kill $sink $ts 2>/dev/null; rm -rf "$top"' EXIT
printf '%-40s %14s %14s\n' "build (SIZE=$SIZE, M=$M)" "smtpd Ir/msg" "runner Ir/msg"
for B in "$@"; do
	B=$(cd "$B" && pwd)
	dir=$(mktemp -d "$top/run.XXXXXX")
	mkdir "$dir/spool" "$dir/cg"
	chmod 777 "$dir"	# callgrind writes as the uid a process ends with
	chmod 777 "$dir/cg"
	chown nobody:nogroup "$dir/spool"
	sp=$(port)
	pp=$(port)
	cat >"$dir/pm.cf" <<EOC
[core]
hostname = pm.bench.test
user-id = nobody
group-id = nogroup
spool-directory = "$dir/spool"

[relay "sink"]
address = 127.0.0.1:$sp

[smtpd "mx.bench.test"]
routing-table = ext

[route "ext"]
@example.test sink
EOC
	"$B/postmaster-cfcompile" -c "$dir/pm.cf" -o "$dir/pm.cdb"
	smtp-sink -c -u nobody "127.0.0.1:$sp" 256 >"$dir/sink" 2>&1 &
	sink=$!
	# as nobody from the start: callgrind cannot write its file after
	# smtpd's own setuid
	tcpserver -u "$(id -u nobody)" -g "$(id -g nobody)" -R -H -l 0 \
	    -c 20 127.0.0.1 "$pp" valgrind -q --tool=callgrind \
	    --callgrind-out-file="$dir/cg/smtpd.%p" \
	    "$B/postmaster-smtpd" -C "$dir/pm.cdb" mx.bench.test \
	    2>"$dir/smtpd.log" &
	ts=$!
	i=0
	until python3 -c "import socket;socket.create_connection(('127.0.0.1',$pp),1)" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "instr.sh: smtpd not listening" >&2; exit 1; }
		sleep 0.1
	done
	smtp-source -s 1 -m "$M" -l "$SIZE" -f a@x.test -t b@example.test \
	    "127.0.0.1:$pp"
	kill $ts; wait $ts 2>/dev/null || true; ts=
	n=$(ls "$dir/spool/queue" | wc -l)
	[ "$n" -eq "$M" ] || { echo "instr.sh: $n of $M queued ($B)" >&2; exit 1; }
	rc=0
	# as nobody from the start too: a process that keeps root as its
	# saved uid (the runner, for deliveries as another user) gets no
	# callgrind file
	setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" \
	    --clear-groups valgrind -q --tool=callgrind --trace-children=yes \
	    --collect-atstart=no --toggle-collect=main \
	    --callgrind-out-file="$dir/cg/queue.%p" \
	    "$B/postmaster-queue" -C "$dir/pm.cdb" --once 2>"$dir/queue.log" ||
	    rc=$?
	[ $rc -eq 0 ] || { echo "instr.sh: the runner exited $rc ($B):" >&2; tail -5 "$dir/queue.log" >&2; }
	kill $sink; wait $sink 2>/dev/null || true; sink=
	left=$(ls "$dir/spool/queue" | wc -l)
	[ "$left" -eq 0 ] || { echo "instr.sh: $left left in the queue ($B)" >&2; exit 1; }
	printf '%-40s %14d %14d\n' "$B" \
	    $(($(sum "$dir"/cg/smtpd.*) / M)) $(($(sum "$dir"/cg/queue.*) / M))
done
