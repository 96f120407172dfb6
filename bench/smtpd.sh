#!/bin/sh
# postmaster-smtpd against a private Postfix that queues durably, measured in
# the same run with Postfix's smtp-source (issue 3, "Benchmark"). By hand,
# as root, loopback only; every server it starts it stops; a few minutes.
#
#   sh bench/smtpd.sh          BUILD=build ROUNDS=5 N=2000 NBIG=200
#
# Both systems do the same job: receive, fsync into the queue, answer 250.
# Postmaster: postmaster-smtpd under `tcpserver -c 200 -b 200` (Postfix's
# master listens with a backlog of max(maxproc, default_process_limit) =
# 200 too), spool owned by nobody. Postfix: `postfix -c DIR`, its own
# main.cf/master.cf/queue, smtpd maxproc 200, every recipient HOLD (the
# cleanup daemon fsyncs the queue file and moves it to hold/ before the
# 250), so the queue manager never delivers. Both log to a file.
#
# msgs/s: files that appeared in the queue over smtp-source's wall time.
# The queues are never emptied during the run: on this ext4 (no journal) a
# mass delete makes every following inode allocation scan the recently
# deleted inodes (recently_deleted() in the kernel profile), for both.
# CPU/1000: utime+stime (own and reaped children) of tcpserver and its
# children, resp. of Postfix's master and all its processes (smtpd,
# cleanup, trivial-rewrite, postlogd, qmgr...). The client is not counted.
# Each load is run ROUNDS times, the two systems alternating (which goes
# first alternates too); each column is the median of its ROUNDS values.
set -eu
. "$(dirname "$0")/postfix.sh"
B=${BUILD:-build}
ROUNDS=${ROUNDS:-5}
N=${N:-2000}            # 4 KiB messages per run
NBIG=${NBIG:-200}       # 1 MiB messages per run
here=$(cd "$(dirname "$0")" && pwd)
probe() { python3 "$here/smtpd_probe.py" "$@"; }

[ "$(id -u)" = 0 ] || { echo "smtpd.sh: run as root (postfix start; smtpd drops to nobody)" >&2; exit 1; }
for t in tcpserver smtp-source postfix python3; do
	command -v $t >/dev/null || { echo "smtpd.sh: $t missing" >&2; exit 1; }
done
B=$(cd "$B" && pwd)
for p in postmaster-smtpd postmaster-cfcompile; do
	[ -x "$B/$p" ] || { echo "smtpd.sh: build $B/$p first" >&2; exit 1; }
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/pm-bench-smtpd.XXXXXX")
chmod 755 "$dir"        # nobody and postfix traverse it
pm_pid=
pf_master=
cleanup() {
	set +e
	if [ -n "$pm_pid" ]; then
		kids=$(ps -o pid= --ppid "$pm_pid" 2>/dev/null)
		kill "$pm_pid" 2>/dev/null
		for k in $kids; do kill "$k" 2>/dev/null; done
		wait "$pm_pid" 2>/dev/null
	fi
	if [ -n "$pf_master" ]; then
		postfix -c "$dir/pf" stop >/dev/null 2>&1
		i=0
		while kill -0 "$pf_master" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -9 "$pf_master" 2>/dev/null
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

now() { date +%s.%N; }

# --- Postmaster ---------------------------------------------------------
mkdir "$dir/pm" "$dir/pm/spool"
chown nobody:nogroup "$dir/pm/spool"
cat >"$dir/pm/pm.cf" <<EOF
[core]
hostname = pm.bench.test
user-id = nobody
group-id = nogroup
spool-directory = "$dir/pm/spool"

[lmtpd]
maildir = "$dir/pm/mail/%d/%u/Maildir"   # virtual: joe need not be a system user

[smtpd "mx.bench.test"]
routing-table = ext

[route "ext"]
@example.test joe
EOF
"$B/postmaster-cfcompile" -c "$dir/pm/pm.cf" -o "$dir/pm/pm.cdb"
pm_port=$(probe port)
tcpserver -R -H -l 0 -c 200 -b 200 127.0.0.1 "$pm_port" \
	"$B/postmaster-smtpd" -C "$dir/pm/pm.cdb" mx.bench.test 2>"$dir/pm/log" &
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
mydestination = example.test
local_recipient_maps =
alias_maps =
alias_database =
smtpd_recipient_restrictions = check_recipient_access static:HOLD
maillog_file = $dir/pf.log
maillog_file_prefixes = $dir
biff = no
EOF
pf_master_cf "$dir" "$pf_port"
pf_start smtpd.sh "$dir"
probe wait-port "$pf_port"

# --- loads --------------------------------------------------------------
src() { # port, then smtp-source options
	p=$1; shift
	smtp-source -f bench@client.test -t user@example.test -M client.test \
	    "$@" "127.0.0.1:$p" || echo "smtpd.sh: smtp-source reported an error" >&2
}
load() { # scenario port
	case $1 in
	s20x1) src "$2" -s 20 -m "$N" -l 4096 ;;
	s20x10) k=0    # 20 sessions carrying 10 messages each, N/200 times
		while [ $k -lt $((N / 200)) ]; do src "$2" -d -s 20 -m 200 -l 4096; k=$((k + 1)); done ;;
	s100x1) src "$2" -s 100 -m "$N" -l 4096 ;;
	big) src "$2" -s 20 -m "$NBIG" -l 1048576 ;;
	esac
}
sysvars() {
	case $1 in
	pm) port=$pm_port; qdir=$dir/pm/spool/queue; root=$pm_pid ;;
	pf) port=$pf_port; qdir=$dir/pfq/hold; root=$pf_master ;;
	esac
}
count() { find "$qdir" -type f | wc -l; }
run() { # system scenario: appends "rate cpu_per_1000" to $dir/res.SYS.SCEN
	sysvars "$1"
	sync
	n0=$(count); c0=$(probe cpu "$root"); t0=$(now)
	load "$2" "$port" >/dev/null
	t1=$(now)
	[ "$1" = pm ] && probe wait-children "$root"
	c1=$(probe cpu "$root"); n1=$(count)
	awk -v n="$((n1 - n0))" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" \
	    'BEGIN { printf "%.1f %.3f\n", n / (t1 - t0), n ? (c1 - c0) * 1000 / n : 0 }' \
	    >>"$dir/res.$1.$2"
	printf '  %s %-6s %5d msgs %6.2f s  -> %s\n' "$1" "$2" "$((n1 - n0))" \
	    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$(tail -1 "$dir/res.$1.$2")" >&2
}
median() { # file column
	sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}

echo "== postmaster-smtpd vs Postfix $(postconf -d -h mail_version) (private instance, hold queue), one run"
echo "   $(nproc) CPUs, $(uname -r), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   disk: $(probe disk "$dir/disk" 2) create+write 4 KiB+fsync+rename+dir-fsync cycles/s (one thread)"
rm -rf "$dir/disk"
# warm-up: page cache, Postfix's process pool, tcpserver's first forks
src "$pm_port" -s 20 -m 200 -l 4096 >/dev/null
src "$pf_port" -s 20 -m 200 -l 4096 >/dev/null

scens="s20x1 s20x10 s100x1 big"
r=1
while [ $r -le "$ROUNDS" ]; do
	echo "   round $r/$ROUNDS" >&2
	for s in $scens; do
		if [ $((r % 2)) = 1 ]; then run pm $s; run pf $s; else run pf $s; run pm $s; fi
	done
	r=$((r + 1))
done

# PSS with 100 sessions open (past EHLO, idle), per smtpd process.
set -- $(probe pss "$pm_port" 100 "$pm_pid" postmaster-smtp); pm_pss_n=$1; pm_pss=$3
probe wait-children "$pm_pid"
set -- $(probe pss "$pf_port" 100 "$pf_master" smtpd); pf_pss_n=$1; pf_pss=$3
# Connect to 220, 200 sequential sessions.
set -- $(probe greet "$pm_port" 200); pm_g=$1; pm_g90=$2
set -- $(probe greet "$pf_port" 200); pf_g=$1; pf_g90=$2
probe wait-children "$pm_pid"

row() { # label ours theirs target-kind target
	awk -v l="$1" -v a="$2" -v b="$3" -v k="$4" -v t="$5" 'BEGIN {
		r = b > 0 ? a / b : 0
		if (k == "ratio>=") { met = r >= t; tt = sprintf(">= %sx", t) }
		else if (k == "ratio<=") { met = r <= t; tt = sprintf("<= %sx", t) }
		else if (k == "abs<=") { met = a <= t; tt = sprintf("<= %s", t) }
		else { met = a < t; tt = sprintf("< %s", t) }
		printf "%-38s %11s %11s %7.2f  %-9s %s\n", l, a, b, r, tt, met ? "met" : "MISSED"
	}'
}
echo
printf '%-38s %11s %11s %7s  %-9s %s\n' "median of $ROUNDS rounds" Postmaster Postfix ratio target ""
for s in $scens; do
	case $s in
	s20x1) l="4 KiB, 20 sessions x 1 msg"; t=2 ;;
	s20x10) l="4 KiB, 20 sessions x 10 msgs"; t=2 ;;
	s100x1) l="4 KiB, 100 sessions x 1 msg"; t=2 ;;
	big) l="1 MiB, 20 sessions x 1 msg"; t=1.5 ;;
	esac
	row "msgs/s, $l" "$(median "$dir/res.pm.$s" 1)" "$(median "$dir/res.pf.$s" 1)" "ratio>=" $t
done
for s in $scens; do
	case $s in
	s20x1) l="4 KiB 20x1" ;; s20x10) l="4 KiB 20x10" ;; s100x1) l="4 KiB 100x1" ;; big) l="1 MiB 20x1" ;;
	esac
	row "CPU s/1000 msgs, $l" "$(median "$dir/res.pm.$s" 2)" "$(median "$dir/res.pf.$s" 2)" "ratio<=" 0.5
done
row "PSS KiB per smtpd, 100 open ($pm_pss_n/$pf_pss_n)" "$pm_pss" "$pf_pss" "abs<=" 1024
row "connect-to-220 median, ms" "$pm_g" "$pf_g" "abs<" 1
printf '%-38s %11s %11s\n' "connect-to-220 90th percentile, ms" "$pm_g90" "$pf_g90"
echo "   load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
