#!/bin/sh
# SIGKILL torture for postmaster-queue (issue 4, "Crash safety"), by hand,
# as root, loopback only; every server it starts it stops.
#
#   sh bench/crash.sh      BUILD=build M=2000 KILLS=500
#
# M messages are spooled through the real postmaster-smtpd, each to two
# recipients: one for a [pipe] that appends the message's Subject to a
# file (after a short sleep, so deliveries are often in flight), one for a
# [relay] that is Postfix's smtp-sink dumping every message it takes
# (network delivery through the workers' cached connections). A runner
# is started and killed with SIGKILL after a random 20-400 ms, KILLS times
# (its workers die with it: PR_SET_PDEATHSIG); then `--once` finishes.
# Pass: the queue is empty, every Subject reached both destinations, no
# state file is left. Duplicates are counted: SMTP's own window (the peer
# took the message, the kill came before the state was saved) allows at
# most one per delivery in flight at a kill.
set -eu
B=$(cd "${BUILD:-build}" && pwd)
M=${M:-2000}
KILLS=${KILLS:-500}
here=$(cd "$(dirname "$0")" && pwd)
probe() { python3 "$here/smtpd_probe.py" "$@"; }
[ "$(id -u)" = 0 ] || { echo "crash.sh: run as root" >&2; exit 1; }
command -v smtp-sink >/dev/null || { echo "crash.sh: smtp-sink missing" >&2; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/pm-crash.XXXXXX")
chmod 755 "$dir"
sink= qp=
cleanup() {
	set +e
	[ -n "$qp" ] && kill -9 "$qp" 2>/dev/null
	[ -n "$sink" ] && kill "$sink" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mkdir "$dir/spool" "$dir/dump" "$dir/bin"
chown nobody:nogroup "$dir/spool"
chmod 777 "$dir/dump"
: >"$dir/piped"
chmod 666 "$dir/piped"
cat >"$dir/bin/append" <<EOF
#!/bin/sh
s=\$(grep -m1 '^Subject:' | cut -d' ' -f2-)
sleep 0.15
echo "\$s" >>"$dir/piped"
EOF
chmod 755 "$dir/bin/append"
sport=$(probe port)
smtp-sink -u nobody -d "$dir/dump/%M." "127.0.0.1:$sport" 64 >/dev/null 2>&1 &
sink=$!
probe wait-port "$sport"
cat >"$dir/pm.cf" <<EOF
[core]
hostname = pm.crash.test
user-id = nobody
group-id = nogroup
spool-directory = "$dir/spool"
queue-concurrency = 6
retry-interval = 1s

[pipe "append"]
exec = "$dir/bin/append"

[relay "sink"]
address = 127.0.0.1:$sport

[smtpd "t"]
routing-table = t

[route "t"]
p@example.test append
n@example.test sink
EOF
"$B/postmaster-cfcompile" -c "$dir/pm.cf" -o "$dir/pm.cdb"

python3 - "$B/postmaster-smtpd" "$dir/pm.cdb" "$M" <<'EOF'
import subprocess, sys
smtpd, cdb, m = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = subprocess.Popen([smtpd, "-C", cdb, "t"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
def reply():
    while True:
        l = p.stdout.readline().decode()
        if l[3:4] != "-":
            return l
def cmd(c):
    p.stdin.write(c.encode() + b"\r\n"); p.stdin.flush()
    return reply()
reply(); cmd("EHLO c.test")
n = 0
for i in range(m):
    cmd("MAIL FROM:<s@c.test>"); cmd("RCPT TO:<p@example.test>")
    cmd("RCPT TO:<n@example.test>"); cmd("DATA")
    if cmd("Subject: m%d\r\n\r\nbody %d\r\n." % (i, i)).startswith("250"):
        n += 1
cmd("QUIT")
if n != m:
    sys.exit("spooled %d of %d" % (n, m))
EOF
echo "== $M messages spooled, two recipients each; $KILLS SIGKILLs"

k=0
t0=$(date +%s)
while [ $k -lt "$KILLS" ]; do
	"$B/postmaster-queue" -C "$dir/pm.cdb" 2>>"$dir/queue.log" &
	qp=$!
	sleep "0.$(printf '%03d' $(( $(od -An -N2 -tu2 /dev/urandom) % 380 + 20 )))"
	kill -9 "$qp" 2>/dev/null || true
	wait "$qp" 2>/dev/null || true
	qp=
	k=$((k + 1))
	[ $((k % 100)) = 0 ] && echo "   $k kills, $(ls "$dir/spool/queue" | wc -l) messages left"
done
"$B/postmaster-queue" -C "$dir/pm.cdb" --once 2>>"$dir/queue.log"
t1=$(date +%s)

left=$(ls "$dir/spool/queue" | wc -l)
states=$(ls "$dir/spool/state" | wc -l)
piped_u=$(sort -u "$dir/piped" | wc -l)
piped_n=$(wc -l <"$dir/piped")
sunk=$(cat "$dir"/dump/* 2>/dev/null | grep -a '^Subject: m' | sed 's/\r$//' | sort)
sunk_u=$(printf '%s\n' "$sunk" | sort -u | grep -c . || true)
sunk_n=$(printf '%s\n' "$sunk" | grep -c . || true)
echo "   $KILLS kills in $((t1 - t0)) s (with the final --once)"
echo "   queue left: $left, state files left: $states"
echo "   pipe: $piped_u of $M distinct delivered, $((piped_n - piped_u)) duplicates"
echo "   relay: $sunk_u of $M distinct delivered, $((sunk_n - sunk_u)) duplicates"
echo "   runner log: $(grep -c 'status=sent' "$dir/queue.log") sent lines, $(grep -c 'worker killed' "$dir/queue.log" || true) killed-worker warnings"
if [ "$left" = 0 ] && [ "$states" = 0 ] && [ "$piped_u" = "$M" ] && [ "$sunk_u" = "$M" ]; then
	echo "PASS: nothing lost"
else
	echo "FAIL"
	exit 1
fi
