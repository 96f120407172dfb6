#!/bin/sh
# TLS in postmaster-smtpd in both shapes -- a postmaster-tlsd spawned per
# STARTTLS ("pm"), and the postmaster-tlsd service whose workers serve
# session after session ("svc") -- against a private Postfix with
# smtpd_tls_security_level = may and the same ECDSA P-256 certificate,
# in the same run (issue 11, "Benchmark"). By hand, as root,
# loopback only; every server it starts it stops.
#
#   sh bench/tls.sh            BUILD=build ROUNDS=3 N=400
#
# Loads (bench/tls_probe.py send: 20 client processes, 4 KiB messages,
# Python's ssl module, a full handshake per session, no resumption):
#   tls1   N sessions x 1 message, STARTTLS
#   tls10  N/10 sessions x 10 messages, STARTTLS
#   plain  N sessions x 1 message in the clear, to an instance with
#          tls = optional (Postmaster) and one with tls = off ("off": what
#          smtpd cost before TLS existed: the plain-session tax)
# Both queue durably (Postfix: every recipient HOLD, as bench/smtpd.sh).
# CPU ms/msg: utime+stime of tcpserver and all its children (smtpd, tlsd),
# resp. of Postfix's master and all its processes (smtpd, tlsmgr,
# cleanup...), per message queued; the client is not counted. msgs/s is
# bounded by the Python client on a small machine: CPU per message is the
# number to read. The parts of a TLS session (exec, library load,
# credentials, handshake) are measured separately at the end.
set -eu
. "$(dirname "$0")/postfix.sh"
B=${BUILD:-build}
ROUNDS=${ROUNDS:-3}
N=${N:-400}
here=$(cd "$(dirname "$0")" && pwd)
probe() { python3 "$here/smtpd_probe.py" "$@"; }
tprobe() { python3 "$here/tls_probe.py" "$@"; }

[ "$(id -u)" = 0 ] || { echo "tls.sh: run as root" >&2; exit 1; }
for t in tcpserver postfix python3 openssl; do
	command -v $t >/dev/null || { echo "tls.sh: $t missing" >&2; exit 1; }
done
B=$(cd "$B" && pwd)
for p in postmaster-smtpd postmaster-tlsd postmaster-cfcompile; do
	[ -x "$B/$p" ] || { echo "tls.sh: build $B/$p first" >&2; exit 1; }
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/pm-bench-tls.XXXXXX")
chmod 755 "$dir"
pm_pid= off_pid= svc_pid= tlsd_pid= pf_master=
cleanup() {
	set +e
	for p in $pm_pid $off_pid $svc_pid $tlsd_pid; do
		kids=$(ps -o pid= --ppid "$p" 2>/dev/null)
		kill "$p" 2>/dev/null
		for k in $kids; do kill "$k" 2>/dev/null; done
		wait "$p" 2>/dev/null
	done
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

# --- one ECDSA P-256 certificate for both --------------------------------
openssl req -x509 -nodes -days 2 -subj /CN=mx.bench.test -newkey ec \
    -pkeyopt ec_paramgen_curve:P-256 -keyout "$dir/key.pem" \
    -out "$dir/cert.pem" 2>/dev/null
chgrp nogroup "$dir/key.pem"
chmod 640 "$dir/key.pem"

# --- Postmaster -----------------------------------------------------------
mkdir "$dir/pm" "$dir/pm/spool"
chown nobody:nogroup "$dir/pm/spool"
cat >"$dir/pm/pm.cf" <<EOF
[core]
hostname = pm.bench.test
user-id = nobody
group-id = nogroup
spool-directory = "$dir/pm/spool"

[lmtpd]
maildir = "$dir/pm/mail/%d/%u/Maildir"

[smtpd "mx.bench.test"]
routing-table = ext
tls = optional
tls-certificate = $dir/cert.pem
tls-key = $dir/key.pem

[smtpd "off.bench.test"]
routing-table = ext

[route "ext"]
@example.test joe
EOF
# pm.cdb: no service, smtpd spawns tlsd; svc.cdb: the service's socket
sed "s|^spool-directory|tls-socket = \"$dir/none.socket\"\\nspool-directory|" "$dir/pm/pm.cf" >"$dir/pm/pm1.cf"
sed "s|^spool-directory|tls-socket = \"$dir/tlsd.socket\"\\nspool-directory|" "$dir/pm/pm.cf" >"$dir/pm/svc.cf"
"$B/postmaster-cfcompile" -c "$dir/pm/pm1.cf" -o "$dir/pm/pm.cdb"
"$B/postmaster-cfcompile" -c "$dir/pm/svc.cf" -o "$dir/pm/svc.cdb"
"$B/postmaster-tlsd" -s -C "$dir/pm/svc.cdb" 2>"$dir/pm/log.tlsd" &
tlsd_pid=$!
pm_port=$(probe port)
tcpserver -R -H -l 0 -c 200 -b 200 127.0.0.1 "$pm_port" \
	"$B/postmaster-smtpd" -C "$dir/pm/pm.cdb" mx.bench.test 2>"$dir/pm/log" &
pm_pid=$!
off_port=$(probe port)
tcpserver -R -H -l 0 -c 200 -b 200 127.0.0.1 "$off_port" \
	"$B/postmaster-smtpd" -C "$dir/pm/pm.cdb" off.bench.test 2>"$dir/pm/log.off" &
off_pid=$!
svc_port=$(probe port)
tcpserver -R -H -l 0 -c 200 -b 200 127.0.0.1 "$svc_port" \
	"$B/postmaster-smtpd" -C "$dir/pm/svc.cdb" mx.bench.test 2>"$dir/pm/log.svc" &
svc_pid=$!
probe wait-port "$pm_port"
probe wait-port "$off_port"
probe wait-port "$svc_port"

# --- Postfix --------------------------------------------------------------
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
smtpd_tls_security_level = may
smtpd_tls_chain_files = $dir/key.pem, $dir/cert.pem
maillog_file = $dir/pf.log
maillog_file_prefixes = $dir
biff = no
EOF
pf_master_cf "$dir" "$pf_port"
echo "tlsmgr    unix  -       -       n       1000?   1       tlsmgr" >>"$dir/pf/master.cf"
pf_start tls.sh "$dir"
probe wait-port "$pf_port"

# --- loads ----------------------------------------------------------------
sysvars() {
	case $1 in
	pm) port=$pm_port; qdir=$dir/pm/spool/queue; root=$pm_pid ;;
	svc) port=$svc_port; qdir=$dir/pm/spool/queue; root=$svc_pid ;;
	off) port=$off_port; qdir=$dir/pm/spool/queue; root=$off_pid ;;
	pf) port=$pf_port; qdir=$dir/pfq/hold; root=$pf_master ;;
	esac
}
cpu() { # the service's CPU (with its reaped children) counts for svc
	if [ "$1" = svc ]; then
		awk -v a="$(probe cpu "$root")" -v b="$(probe cpu "$tlsd_pid")" 'BEGIN { print a + b }'
	else
		probe cpu "$root"
	fi
}
count() { find "$qdir" -type f 2>/dev/null | wc -l; }
load() { # scenario port -> "messages seconds"
	case $1 in
	tls1) tprobe send "$2" "$N" 20 1 tls ;;
	tls10) tprobe send "$2" "$((N / 10))" 20 10 tls ;;
	plain) tprobe send "$2" "$N" 20 1 plain ;;
	esac
}
run() { # system scenario: appends "msgs/s cpu_ms_per_msg" to $dir/res.SYS.SCEN
	sysvars "$1"
	sync
	n0=$(count); c0=$(cpu "$1")
	set -- "$1" "$2" $(load "$2" "$port")
	[ "$1" != pf ] && probe wait-children "$root"
	# (the service's workers stay for the next session: probe cpu counts
	# live descendants, so their CPU is in the sum without waiting)
	c1=$(cpu "$1"); n1=$(count)
	awk -v n="$((n1 - n0))" -v t="$4" -v c0="$c0" -v c1="$c1" \
	    'BEGIN { printf "%.1f %.3f\n", n / t, n ? (c1 - c0) * 1000 / n : 0 }' \
	    >>"$dir/res.$1.$2"
	printf '  %-3s %-6s %5d msgs %6.2f s -> %s\n' "$1" "$2" "$((n1 - n0))" "$4" \
	    "$(tail -1 "$dir/res.$1.$2")" >&2
}
median() { # file column
	sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}

echo "== TLS: postmaster-smtpd + postmaster-tlsd vs Postfix $(postconf -d -h mail_version), $(gnutls-cli --version 2>/dev/null | head -1)"
echo "   $(nproc) CPUs, $(uname -r), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
tprobe send "$pm_port" 40 20 1 tls >/dev/null
tprobe send "$pf_port" 40 20 1 tls >/dev/null
tprobe send "$svc_port" 40 20 1 tls >/dev/null
tprobe send "$off_port" 40 20 1 plain >/dev/null

r=1
while [ $r -le "$ROUNDS" ]; do
	echo "   round $r/$ROUNDS" >&2
	for s in tls1 tls10 plain; do
		if [ $((r % 2)) = 1 ]; then run pm $s; run svc $s; run pf $s
		else run pf $s; run svc $s; run pm $s; fi
	done
	run off plain
	r=$((r + 1))
done

# --- what a TLS session costs, part by part (CPU ms per run) -------------
K=${K:-100}
exec_static=$(tprobe cost "$K" "$B/postmaster-smtpd" -h)
exec_gnutls=$(tprobe cost "$K" "$B/postmaster-tlsd" -h)
to_ready=$(tprobe tlsd-cost "$K" "$B/postmaster-tlsd" "$dir/pm/pm.cdb" mx.bench.test)

row() { # label ours theirs kind target
	awk -v l="$1" -v a="$2" -v b="$3" -v k="$4" -v t="$5" 'BEGIN {
		r = b > 0 ? a / b : 0
		if (k == "ratio>=") { met = r >= t; tt = sprintf(">= %sx", t) }
		else if (k == "ratio<=") { met = r <= t; tt = sprintf("<= %sx", t) }
		else { met = 1; tt = "" }
		printf "%-40s %10s %10s %6.2f  %-8s %s\n", l, a, b, r, tt,
		    tt == "" ? "" : met ? "met" : "MISSED"
	}'
}
echo
printf '%-40s %10s %10s %6s  %-8s\n' "median of $ROUNDS rounds" Postmaster Postfix ratio target
for sh in pm svc; do
	[ $sh = pm ] && w="spawned tlsd" || w="tlsd service"
	echo "-- $w"
	row "msgs/s, TLS, 20 x 1 msg/session" "$(median "$dir/res.$sh.tls1" 1)" "$(median "$dir/res.pf.tls1" 1)" "ratio>=" 1.25
	row "CPU ms/msg, TLS, 20 x 1 msg/session" "$(median "$dir/res.$sh.tls1" 2)" "$(median "$dir/res.pf.tls1" 2)" "ratio<=" 0.8
	row "msgs/s, TLS, 20 x 10 msgs/session" "$(median "$dir/res.$sh.tls10" 1)" "$(median "$dir/res.pf.tls10" 1)" "ratio>=" 2
	row "CPU ms/msg, TLS, 20 x 10 msgs/session" "$(median "$dir/res.$sh.tls10" 2)" "$(median "$dir/res.pf.tls10" 2)" "" ""
done
echo "-- plain sessions (no tlsd)"
row "msgs/s, plain, 20 x 1" "$(median "$dir/res.pm.plain" 1)" "$(median "$dir/res.pf.plain" 1)" "" ""
row "CPU ms/msg, plain, 20 x 1" "$(median "$dir/res.pm.plain" 2)" "$(median "$dir/res.pf.plain" 2)" "" ""
row "CPU ms/msg, plain: tls=optional vs off" "$(median "$dir/res.pm.plain" 2)" "$(median "$dir/res.off.plain" 2)" "ratio<=" 1.05
echo
echo "What one TLS session costs Postmaster (CPU ms, mean of $K runs each):"
awk -v s="$exec_static" -v g="$exec_gnutls" -v r="$to_ready" \
    -v t="$(median "$dir/res.pm.tls1" 2)" -v p="$(median "$dir/res.pm.plain" 2)" 'BEGIN {
	printf "  exec of a static-pie program (smtpd -h)          %7.3f\n", s
	printf "  + dynamic loading of GnuTLS and its constructor  %7.3f  (tlsd -h: %.3f)\n", g - s, g
	printf "  + configuration and credentials (ECDSA P-256)    %7.3f  (tlsd to \"ready\": %.3f)\n", r - g, r
	printf "  + handshake, relay, spawn: the rest of a TLS     %7.3f  (TLS msg %.3f - plain msg %.3f - to ready)\n", t - p - r, t, p
	printf "    session over a plain one\n"
}'

# --- the same parts in instructions (callgrind: independent of the load,
# user space only: exec, mmap and page faults are the kernel's) ---------
if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
	vg=$dir/vg
	mkdir -p "$vg/out"
	chmod 755 "$vg"
	chmod 1777 "$vg/out"    # tlsd runs as nobody
	cp "$B/postmaster-smtpd" "$vg/"
	# smtpd starts the postmaster-tlsd beside it: here, tlsd under callgrind
	printf '#!/bin/sh
exec valgrind -q --tool=callgrind --callgrind-out-file=%s/out/session.%%p %s "$@"
' \
	    "$vg" "$B/postmaster-tlsd" >"$vg/postmaster-tlsd"
	chmod 755 "$vg/postmaster-tlsd"
	vg_port=$(probe port)
	tcpserver -1 -R -H -l 0 127.0.0.1 "$vg_port" "$vg/postmaster-smtpd" \
	    -C "$dir/pm/pm.cdb" mx.bench.test >/dev/null 2>&1 &
	vg_pid=$!
	probe wait-port "$vg_port"
	tprobe send "$vg_port" 1 1 1 tls >/dev/null
	probe wait-children "$vg_pid" 60
	kill "$vg_pid"
	wait "$vg_pid" 2>/dev/null || :
	incl() { # file function-pattern: inclusive instructions
		callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
		    awk -v f="$2" '$0 ~ f { gsub(",", "", $1); print $1; exit }'
	}
	tot() { incl "$1" "PROGRAM TOTALS"; }
	sess=$(ls "$vg"/out/session.* | head -1)
	valgrind -q --tool=callgrind --callgrind-out-file="$vg/out/help" "$B/postmaster-tlsd" -h 2>/dev/null || :
	valgrind -q --tool=callgrind --callgrind-out-file="$vg/out/smtpd" "$B/postmaster-smtpd" -h 2>/dev/null || :
	echo
	echo "One TLS session in postmaster-tlsd (ECDSA P-256, 1 message), instructions:"
	awk -v t="$(tot "$sess")" -v dl="$(incl "$sess" "rtld.c:_dl_start ")" \
	    -v di="$(incl "$sess" "dl-init.c:_dl_init ")" -v c="$(incl "$sess" "tlsd_cred_load ")" \
	    -v h="$(incl "$sess" "tlsd_conn_handshake ")" -v r="$(incl "$sess" "tlsd_conn_relay ")" \
	    -v s="$(tot "$vg/out/smtpd")" 'BEGIN {
		printf "  total                                        %10d\n", t
		printf "  dynamic linking (relocations)                %10d  %4.1f%%\n", dl, 100 * dl / t
		printf "  library constructors (GnuTLS global init)    %10d  %4.1f%%\n", di, 100 * di / t
		printf "  credentials (read, parse, key id check)      %10d  %4.1f%%\n", c, 100 * c / t
		printf "  handshake                                    %10d  %4.1f%%\n", h, 100 * h / t
		printf "  relay of one message                         %10d  %4.1f%%\n", r, 100 * r / t
		printf "  (a whole static smtpd -h, for scale:         %10d)\n", s
	}'
fi
# a session in a worker of the service under callgrind (a fork: library
# load and credentials were the parent's, once)
if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
	kill "$tlsd_pid"; wait "$tlsd_pid" 2>/dev/null || :
	rm -f "$dir/tlsd.socket"
	mkdir -p "$dir/vgs"
	chmod 1777 "$dir/vgs"
	valgrind -q --tool=callgrind --callgrind-out-file="$dir/vgs/cg.%p" \
	    "$B/postmaster-tlsd" -s -C "$dir/pm/svc.cdb" 2>/dev/null &
	tlsd_pid=$!
	i=0
	while [ ! -S "$dir/tlsd.socket" ] && [ $i -lt 300 ]; do
		i=$((i + 1)); sleep 0.1
	done
	tprobe send "$svc_port" 1 1 1 tls >/dev/null
	probe wait-children "$svc_pid" 60
	# the worker stays for the next session: stopping the service ends
	# it (end of file on its channel), and callgrind writes its file then
	kill "$tlsd_pid"; wait "$tlsd_pid" 2>/dev/null || :
	i=0
	while [ "$(ls "$dir"/vgs/cg.* 2>/dev/null | wc -l)" -lt 2 ] && [ $i -lt 300 ]; do
		i=$((i + 1)); sleep 0.1
	done
	# a worker's file holds the counts it inherited at the fork (the
	# service's start-up and credentials, paid once): only its session()
	# is per-session work; the service's own part per session is the
	# stat()s of tlsd_insts_get, accept, recvmsg and the hand-over
	child=$(ls -S "$dir"/vgs/cg.* | head -1)
	echo
	echo "One TLS session in a worker of the service (ECDSA P-256, 1 message), instructions:"
	awk -v t="$(incl "$child" "postmaster-tlsd.c:session ")" -v h="$(incl "$child" "tlsd_conn_handshake ")" \
	    -v r="$(incl "$child" "tlsd_conn_relay ")" -v g="$(incl "$child" "tlsd_insts_get ")" 'BEGIN {
		printf "  session() in the worker                      %10d\n", t
		printf "  handshake                                    %10d  %4.1f%%\n", h, 100 * h / t
		printf "  relay of one message                         %10d  %4.1f%%\n", r, 100 * r / t
		printf "  (inherited, paid once by the service: first lookup with credentials %d)\n", g
		printf "  (kernel work -- page faults, context switches -- is not counted)\n"
	}'
fi
echo "   load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   (a machine shared with other work: CPU times include cache and scheduler effects)"
