#!/bin/sh
# postmaster-queue against a private Postfix, end to end, measured in the
# same run (issue 4, "Benchmark"). By hand, as root, loopback only; every
# server it starts it stops; about 5-10 minutes.
#
#   sh bench/queue.sh      BUILD=build ROUNDS=3 N=2000 NBIG=200 SCAN=100000
#
# End to end: smtp-source -> MTA -> smtp-sink (one sink per system, started
# once, `-c` counters read from its output). Postmaster: postmaster-smtpd
# under `tcpserver -c 200 -b 200`, routing example.test to a [relay] whose
# address is the sink, and a running postmaster-queue (foreground, woken by
# smtpd's nudge), default queue-concurrency. Postfix: `postfix -c DIR`,
# relayhost = [127.0.0.1]:SINK, default queue manager and smtp settings,
# smtpd maxproc 200 as in bench/smtpd.sh. Both log to a file, both fsync.
#
# msgs/s: N messages over the time from smtp-source's start until the sink
# has counted all N. CPU/1000: utime+stime (own and reaped children) of
# tcpserver + postmaster-queue and their children, resp. of Postfix's master
# and all its processes, read after the queue is empty again. Runner RSS:
# VmRSS/VmHWM of the postmaster-queue process vs Postfix's qmgr. Each load
# runs ROUNDS times, the systems alternating; columns are medians.
#
# The scan: SCAN committed messages written straight into a spool in the
# spool(5) format (bench/queue_probe.py gen), routed to a [relay] nobody
# listens on and already deferred once (next try in an hour), so nothing
# leaves. At 1,000 / 10,000 / SCAN messages: a fresh runner's start-up scan
# (exec to sd_notify READY=1), its RSS then and after one more nudge-driven
# rescan, the rescan time, and `postmaster-queue --list` time and lines.
# Postfix's `postqueue -p` on PFSCAN messages in its hold queue is beside
# it (put there through SMTP, so fewer). COLD=1 drops the page cache before
# the largest start-up scan (system-wide; off by default).
set -eu
. "$(dirname "$0")/postfix.sh"
B=${BUILD:-build}
ROUNDS=${ROUNDS:-3}
N=${N:-2000}            # 4 KiB messages per run
NBIG=${NBIG:-200}       # 1 MiB messages per run
SCAN=${SCAN:-100000}
PFSCAN=${PFSCAN:-10000}
COLD=${COLD:-0}
TMO=${TMO:-180}         # seconds a run may take before it counts as failed
here=$(cd "$(dirname "$0")" && pwd)
probe() { python3 "$here/smtpd_probe.py" "$@"; }
qprobe() { python3 "$here/queue_probe.py" "$@"; }

[ "$(id -u)" = 0 ] || { echo "queue.sh: run as root (postfix start; the runner drops to nobody)" >&2; exit 1; }
for t in tcpserver smtp-source smtp-sink postfix postqueue python3; do
	command -v $t >/dev/null || { echo "queue.sh: $t missing" >&2; exit 1; }
done
B=$(cd "$B" && pwd)
for p in postmaster-smtpd postmaster-cfcompile postmaster-queue; do
	[ -x "$B/$p" ] || { echo "queue.sh: build $B/$p first" >&2; exit 1; }
done
NOBODY_UID=$(id -u nobody)
NOGROUP_GID=$(getent group nogroup | cut -d: -f3)

dir=$(mktemp -d "${TMPDIR:-/tmp}/pm-bench-queue.XXXXXX")
chmod 755 "$dir"
pm_pid= q_pid= pf_master= pm_sink= pf_sink= scan_pid=
stop_pid() { # pid: TERM, wait up to 10 s, KILL
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 "$1" 2>/dev/null || true
}
cleanup() {
	set +e
	if [ -n "$pm_pid" ]; then
		kids=$(ps -o pid= --ppid "$pm_pid" 2>/dev/null)
		kill "$pm_pid" 2>/dev/null
		for k in $kids; do kill "$k" 2>/dev/null; done
		wait "$pm_pid" 2>/dev/null
	fi
	stop_pid "$q_pid"
	stop_pid "$scan_pid"
	if [ -n "$pf_master" ]; then
		postfix -c "$dir/pf" stop >/dev/null 2>&1
		i=0
		while kill -0 "$pf_master" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -9 "$pf_master" 2>/dev/null
	fi
	stop_pid "$pm_sink"
	stop_pid "$pf_sink"
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

now() { date +%s.%N; }

# --- the sinks ----------------------------------------------------------
pm_sink_port=$(probe port)
smtp-sink -c -u nobody "127.0.0.1:$pm_sink_port" 256 >"$dir/pm.sink" 2>&1 &
pm_sink=$!
pf_sink_port=$(probe port)
smtp-sink -c -u nobody "127.0.0.1:$pf_sink_port" 256 >"$dir/pf.sink" 2>&1 &
pf_sink=$!
probe wait-port "$pm_sink_port"
probe wait-port "$pf_sink_port"

# --- Postmaster ---------------------------------------------------------
mkdir "$dir/pm" "$dir/pm/spool"
chown nobody:nogroup "$dir/pm/spool"
cat >"$dir/pm/pm.cf" <<EOF
[core]
hostname = pm.bench.test
user-id = nobody
group-id = nogroup
spool-directory = "$dir/pm/spool"

[relay "sink"]
address = 127.0.0.1:$pm_sink_port
protocol = smtp

[smtpd "mx.bench.test"]
routing-table = ext

[route "ext"]
@example.test sink
EOF
"$B/postmaster-cfcompile" -c "$dir/pm/pm.cf" -o "$dir/pm/pm.cdb"
"$B/postmaster-queue" -C "$dir/pm/pm.cdb" 2>"$dir/pm/queue.log" &
q_pid=$!
i=0   # the runner creates the nudge FIFO
while ! grep -qs "started:" "$dir/pm/queue.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
pm_port=$(probe port)
tcpserver -R -H -l 0 -c 200 -b 200 127.0.0.1 "$pm_port" \
	"$B/postmaster-smtpd" -C "$dir/pm/pm.cdb" mx.bench.test 2>"$dir/pm/smtpd.log" &
pm_pid=$!
probe wait-port "$pm_port"

# --- Postfix ------------------------------------------------------------
mkdir "$dir/pf" "$dir/pfq" "$dir/pfdata"
chown postfix "$dir/pfdata"
pf_port=$(probe port)
cat >"$dir/pf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/pfq
data_directory = $dir/pfdata
mail_owner = postfix
setgid_group = postdrop
myhostname = pf.bench.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relayhost = [127.0.0.1]:$pf_sink_port
local_recipient_maps =
alias_maps =
alias_database =
smtpd_recipient_restrictions = check_recipient_access hash:$dir/pf/access, permit_mynetworks, reject
maillog_file = $dir/pf.log
maillog_file_prefixes = $dir
biff = no
EOF
# For the list comparison only: hold@example.test is put on hold.
printf 'hold@example.test HOLD\n' >"$dir/pf/access"
postmap -c "$dir/pf" "hash:$dir/pf/access"
pf_master_cf "$dir" "$pf_port"
pf_start queue.sh "$dir"
probe wait-port "$pf_port"

# --- end to end ---------------------------------------------------------
src() { # port, then smtp-source options
	p=$1; shift
	smtp-source -f bench@client.test -t user@example.test -M client.test \
	    "$@" "127.0.0.1:$p" || echo "queue.sh: smtp-source reported an error" >&2
}
sysvars() {
	case $1 in
	pm) port=$pm_port; sinkf=$dir/pm.sink; qdirs="$dir/pm/spool/queue"; roots="$pm_pid $q_pid" ;;
	pf) port=$pf_port; sinkf=$dir/pf.sink
	    qdirs="$dir/pfq/incoming $dir/pfq/active $dir/pfq/deferred $dir/pfq/maildrop"; roots=$pf_master ;;
	esac
}
cpu() { # sum over roots
	t=0
	for r in $roots; do t=$(echo "$t + $(probe cpu "$r")" | bc); done
	echo "$t"
}
runner_pid() { # sys
	case $1 in
	pm) echo "$q_pid" ;;
	pf) qprobe child "$pf_master" qmgr ;;
	esac
}
scen_args() {
	case $1 in
	k4s20) echo "-s 20 -m $N -l 4096" ;;
	k4s100) echo "-s 100 -m $N -l 4096" ;;
	m1s20) echo "-s 20 -m $NBIG -l 1048576" ;;
	m1s100) echo "-s 100 -m $NBIG -l 1048576" ;;
	esac
}
scen_n() { case $1 in k4*) echo "$N" ;; *) echo "$NBIG" ;; esac; }
run() { # system scenario: appends "rate cpu_per_1000 rss hwm" to $dir/res.SYS.SCEN
	sysvars "$1"
	n=$(scen_n "$2")
	sync
	base=$(qprobe sink-count "$sinkf")
	c0=$(cpu); t0=$(now)
	# shellcheck disable=SC2046
	src "$port" $(scen_args "$2") >/dev/null
	set -- "$1" "$2" $(qprobe wait-sink "$sinkf" $((base + n)) "$TMO")
	got=$(($3 - base)); t1=$4
	# CPU after the queue is empty and the workers are reaped.
	qprobe wait-empty 60 $qdirs || true
	[ "$1" = pm ] && { probe wait-children "$pm_pid"; probe wait-children "$q_pid" 30; }
	sleep 0.2
	c1=$(cpu)
	set -- "$1" "$2" $(qprobe mem "$(runner_pid "$1")")
	awk -v n="$got" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v rss="$3" -v hwm="$4" \
	    'BEGIN { printf "%.1f %.3f %d %d\n", n / (t1 - t0), n ? (c1 - c0) * 1000 / n : 0, rss, hwm }' \
	    >>"$dir/res.$1.$2"
	[ "$got" -ge "$n" ] || echo "queue.sh: $1 $2: the sink got $got of $n within ${TMO}s" >&2
	printf '  %s %-6s %5d msgs %7.2f s  -> %s\n' "$1" "$2" "$got" \
	    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$(tail -1 "$dir/res.$1.$2")" >&2
}
median() { # file column
	sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}
maxcol() { sort -n -k"$2" "$1" | tail -1 | awk -v c="$2" '{ print $c }'; }

echo "== postmaster-queue vs Postfix $(postconf -d -h mail_version): smtp-source -> MTA -> smtp-sink, one run"
echo "   $(nproc) CPUs, $(uname -r), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
# warm-up: page cache, Postfix's process pool and slow start, forks
for s in pm pf; do
	sysvars $s
	base=$(qprobe sink-count "$sinkf")
	src "$port" -s 20 -m 200 -l 4096 >/dev/null
	qprobe wait-sink "$sinkf" $((base + 200)) 60 >/dev/null
	qprobe wait-empty 30 $qdirs || true
done

scens=${SCENS:-"k4s20 k4s100 m1s20 m1s100"}
r=1
while [ $r -le "$ROUNDS" ]; do
	echo "   round $r/$ROUNDS" >&2
	for s in $scens; do
		if [ $((r % 2)) = 1 ]; then run pm $s; run pf $s; else run pf $s; run pm $s; fi
	done
	r=$((r + 1))
done
set -- $(qprobe mem "$q_pid"); pm_rss_idle=$1; pm_hwm=$2
set -- $(qprobe mem "$(runner_pid pf)"); pf_rss_idle=$1; pf_hwm=$2
pm_sent=$(grep -c "status=sent" "$dir/pm/queue.log" || true)
pm_def=$(grep -c "status=deferred" "$dir/pm/queue.log" || true)
pf_def=$(grep -c "status=deferred" "$dir/pf.log" || true)

# --- the 100,000-message scan -------------------------------------------
# The e2e Postmaster runner goes; a second spool gets the deferred queue.
stop_pid "$q_pid"; wait "$q_pid" 2>/dev/null || true; q_pid=
down_port=$(probe port)   # nothing listens there
mkdir "$dir/sc" "$dir/sc/spool"
chown nobody:nogroup "$dir/sc/spool"
chmod 700 "$dir/sc/spool"
cat >"$dir/sc/sc.cf" <<EOF
[core]
hostname = pm.bench.test
user-id = nobody
group-id = nogroup
spool-directory = "$dir/sc/spool"

[relay "down"]
address = 127.0.0.1:$down_port

[smtpd "mx.bench.test"]
routing-table = ext

[route "ext"]
@example.test down
EOF
"$B/postmaster-cfcompile" -c "$dir/sc/sc.cf" -o "$dir/sc/sc.cdb"
# The runner creates queue/, state/, tmp/ and the FIFO at its first start.
"$B/postmaster-queue" -C "$dir/sc/sc.cdb" --once 2>>"$dir/sc/queue.log"
Q="$B/postmaster-queue -C $dir/sc/sc.cdb"
have=0
: >"$dir/scan.res"
for lvl in 1000 10000 "$SCAN"; do
	[ "$lvl" -gt "$have" ] || continue
	t0=$(now)
	qprobe gen "$dir/sc/spool" "$have" "$lvl" "$NOBODY_UID" "$NOGROUP_GID" relay:down
	echo "   generated $((lvl - have)) spool files in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s" >&2
	have=$lvl
	sync
	if [ "$COLD" = 1 ] && [ "$lvl" = "$SCAN" ]; then echo 3 >/proc/sys/vm/drop_caches; fi
	# shellcheck disable=SC2086
	set -- $(qprobe runner "$dir/sc/spool" "$dir/sc/queue.log" $Q)
	scan_s=$1; rss0=$2; scan_pid=$4
	# one more message, then the nudge: a full rescan that finds it
	qprobe gen "$dir/sc/spool" "$have" $((have + 1)) "$NOBODY_UID" "$NOGROUP_GID" relay:down
	have=$((have + 1))
	set -- $(qprobe rescan "$dir/sc/spool" "$scan_pid" "$have" 120)
	rescan_s=$1; rss1=$2; hwm1=$3
	stop_pid "$scan_pid"; scan_pid=
	# shellcheck disable=SC2086
	set -- $(qprobe list $Q --list)
	echo "$lvl $scan_s $rss0 $rescan_s $rss1 $hwm1 $1 $2" >>"$dir/scan.res"
	echo "   scan $lvl: $(tail -1 "$dir/scan.res")" >&2
	python3 -c 'import sys,os; n=sum(1 for _ in os.scandir(sys.argv[1])); sys.exit(0 if n==int(sys.argv[2]) else 1)' \
	    "$dir/sc/spool/queue" "$have" || echo "queue.sh: scan spool lost messages" >&2
done
grep -v "started:\|SIGTERM\|^$" "$dir/sc/queue.log" | head -3 >&2 || true

# Postfix: PFSCAN messages on hold (smtp-source), then postqueue -p.
pfscan_s=0 pfscan_l=0 pf_qmgr_hold=0
if [ "$PFSCAN" -gt 0 ]; then
	t0=$(now)
	smtp-source -f bench@client.test -t hold@example.test -M client.test \
	    -s 20 -m "$PFSCAN" -l 4096 "127.0.0.1:$pf_port" >/dev/null || true
	echo "   Postfix: $(find "$dir/pfq/hold" -type f | wc -l) messages put on hold in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s" >&2
	set -- $(qprobe list postqueue -c "$dir/pf" -p)
	pfscan_s=$1; pfscan_l=$2
	set -- $(qprobe mem "$(runner_pid pf)"); pf_qmgr_hold=$1
fi

# --- the table ----------------------------------------------------------
row() { # label ours theirs target-kind target
	awk -v l="$1" -v a="$2" -v b="$3" -v k="$4" -v t="${5:-}" 'BEGIN {
		r = b > 0 ? a / b : 0
		if (k == "ratio>=") { met = r >= t; tt = sprintf(">= %sx", t) }
		else if (k == "ratio<=") { met = r <= t; tt = sprintf("<= %sx", t) }
		else if (k == "flat<=") { met = a <= t; tt = sprintf("<= %s", t) }
		else { tt = "-"; met = -1 }
		printf "%-44s %11s %11s %7.2f  %-9s %s\n", l, a, b, r, tt, met < 0 ? "" : met ? "met" : "MISSED"
	}'
}
label() {
	case $1 in
	k4s20) echo "4 KiB, 20 sessions" ;; k4s100) echo "4 KiB, 100 sessions" ;;
	m1s20) echo "1 MiB, 20 sessions" ;; m1s100) echo "1 MiB, 100 sessions" ;;
	esac
}
echo
printf '%-44s %11s %11s %7s  %-9s %s\n' "median of $ROUNDS rounds (N=$N, NBIG=$NBIG)" Postmaster Postfix ratio target ""
for s in $scens; do
	row "e2e msgs/s, $(label $s)" "$(median "$dir/res.pm.$s" 1)" "$(median "$dir/res.pf.$s" 1)" "ratio>=" 1.5
done
for s in $scens; do
	row "CPU s/1000 msgs, $(label $s)" "$(median "$dir/res.pm.$s" 2)" "$(median "$dir/res.pf.$s" 2)" "info"
done
for s in $scens; do
	row "runner VmRSS KiB after, $(label $s)" "$(median "$dir/res.pm.$s" 3)" "$(median "$dir/res.pf.$s" 3)" "info"
done
row "runner VmHWM KiB, after all e2e runs" "$pm_hwm" "$pf_hwm" "info"
printf '%-44s %11s %11s\n' "deliveries logged sent / deferred" "$pm_sent/$pm_def" "-/$pf_def"
echo
printf '%-44s %11s %11s %11s %11s\n' "deferred queue (Postmaster)" "start scan" "RSS KiB" "rescan s" "RSS KiB" 
while read -r lvl scan_s rss0 rescan_s rss1 hwm1 ls ll; do
	printf '%-44s %11s %11s %11s %11s\n' "$lvl messages: runner start / +1 and nudge" "${scan_s}s" "$rss0" "$rescan_s" "$rss1"
done <"$dir/scan.res"
while read -r lvl scan_s rss0 rescan_s rss1 hwm1 ls ll; do
	printf '%-44s %11s %11s\n' "$lvl messages: --list s / lines" "$ls" "$ll"
done <"$dir/scan.res"
[ "$PFSCAN" -gt 0 ] && printf '%-44s %11s %11s\n' "Postfix $PFSCAN on hold: postqueue -p s / lines" "$pfscan_s" "$pfscan_l"
first=$(head -1 "$dir/scan.res" | cut -d' ' -f5); last=$(tail -1 "$dir/scan.res" | cut -d' ' -f5)
lastn=$(tail -1 "$dir/scan.res" | cut -d' ' -f1)
echo
printf '%-44s %11s %11s %7s  %-9s %s\n' "" "1,000" "$lastn" "growth" target ""
awk -v a="$first" -v b="$last" 'BEGIN { g = b / a; printf "%-44s %11s %11s %7.2f  %-9s %s\n",
    "runner VmRSS KiB, deferred queue", a, b, g, "<= 1.2x", g <= 1.2 ? "met" : "MISSED" }'
[ "$PFSCAN" -gt 0 ] && printf '%-44s %11s\n' "(Postfix qmgr VmRSS KiB with $PFSCAN on hold)" "$pf_qmgr_hold"
echo "   load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
