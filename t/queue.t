#!/bin/sh
# postmaster-queue end to end: messages spooled by the real postmaster-smtpd,
# delivered by `postmaster-queue --once` to pipe scripts with each exit
# code, bounces parsed as RFC 3464 DSNs, --list/--delete/--flush, sd_notify,
# SIGHUP with a retry due, retries through an SMTP peer, workers and root
# (a program run as another user), and SIGKILL at random instants.
. "$(dirname "$0")/lib.sh"
Q="$PM_BIN/postmaster-queue"
S="$PM_BIN/postmaster-smtpd"
CF="$PM_BIN/postmaster-cfcompile"
cd "$T_TMP" || exit 1
chmod 755 "$T_TMP"
mkdir -p bin out spool
chmod 777 out

if [ "$(id -u)" = 0 ]; then
	U=nobody
	G=$(id -gn nobody 2>/dev/null || echo nogroup)
	chown "$U:$G" spool
else
	U=$(id -un)
	G=$(id -gn)
fi
chmod 700 spool

# deliver CODE SENDER RCPT...: keeps stdin and argv, then exits CODE
# (or dies by SIGKILL for "sig").
cat >bin/deliver <<'EOF'
#!/bin/sh
code=$1; shift
f=$(mktemp "$OUTDIR/d.$code.XXXXXX")
{ printf 'argv:'; for a in "$@"; do printf ' [%s]' "$a"; done; echo; cat; } >"$f"
echo "output of $code"
[ "$code" = sig ] && kill -9 $$
exit "$code"
EOF
sed -i "s|\$OUTDIR|$T_TMP/out|" bin/deliver
chmod 755 bin/deliver

cfg() { # cfg EXTRA-CORE-LINES [RETRY-INTERVAL]
	cat >q.cf <<EOF
[core]
hostname = mx.test
user-id = "$U"
group-id = "$G"
spool-directory = "$T_TMP/spool"
retry-interval = ${2:-5s}
queue-lifetime = 1h
$1

[pipe "ok"]
exec = "$T_TMP/bin/deliver" "0" "\${MAIL_FROM}" "\${RCPT_TO}" "\${QUEUE_ID}"
max_rcpt_to = 10
[pipe "temp"]
exec = "$T_TMP/bin/deliver" "75" "\${MAIL_FROM}" "\${RCPT_TO}"
[pipe "perm"]
exec = "$T_TMP/bin/deliver" "67" "\${MAIL_FROM}" "\${RCPT_TO}"
[pipe "sig"]
exec = "$T_TMP/bin/deliver" "sig" "\${MAIL_FROM}" "\${RCPT_TO}"
[pipe "other"]
exec = "$T_TMP/bin/deliver" "3" "\${MAIL_FROM}" "\${RCPT_TO}"
[pipe "sink"]
exec = "$T_TMP/bin/deliver" "0" "\${MAIL_FROM}" "\${RCPT_TO}"
[pipe "slow"]
exec = "/bin/sleep" "30"
timeout = 1s
[pipe "append"]
exec = "$T_TMP/bin/append" "\${RCPT_TO}"
[pipe "asuser"]
exec = "$T_TMP/bin/whoami"
user = daemon
[relay "sinkhost"]
address = 127.0.0.1:$SINKPORT
[relay "down"]
address = 127.0.0.1:1

[lmtpd]
maildir = "$T_TMP/mail/%u/Maildir"

[smtpd "t"]
routing-table = t

[route "t"]
ok@example.org ok
two@example.org ok
temp@example.org temp
perm@example.org perm
sig@example.org sig
other@example.org other
slow@example.org slow
list@example.org ok, perm
dead@example.org perm, sig
cmd@example.org "|$T_TMP/bin/deliver 0 'a b' \${RCPT_LOCAL} \${RCPT_DOMAIN}"
relay@example.org sinkhost
down@example.org down
crash@example.org append
asuser@example.org asuser
local@example.org joe

[route]
@example.net sink
postmaster sink
EOF
	"$CF" -c q.cf -o q.cdb
}

SINKPORT=1
cfg "" || { echo "1..0 # SKIP config does not compile"; exit 0; }

# smtp.py speaks SMTP to the real smtpd on its stdin/stdout, waiting for
# each reply (smtpd refuses early talkers), and prints the queue ids.
cat >smtp.py <<'EOF'
import subprocess, sys
smtpd, cdb, count, subj, sender = sys.argv[1:6]
rcpts = sys.argv[6:]
p = subprocess.Popen([smtpd, '-C', cdb, 't'], stdin=subprocess.PIPE,
    stdout=subprocess.PIPE, stderr=open('smtpd.log', 'a'))
def reply():
    while True:
        l = p.stdout.readline().decode()
        if l[3:4] != '-':
            return l
def cmd(c):
    p.stdin.write(c.encode() + b'\r\n'); p.stdin.flush()
    return reply()
reply()
cmd('EHLO client.test')
for i in range(int(count)):
    cmd('MAIL FROM:<%s>' % sender)
    for r in rcpts:
        cmd('RCPT TO:<%s>' % r)
    if not cmd('DATA').startswith('354'):
        cmd('RSET'); continue
    s = subj if int(count) == 1 else 'm%d' % i
    l = cmd('Subject: %s\r\nMessage-ID: <%d.%s@client.test>\r\n\r\nhello\r\n.' % (s, i, s))
    if l.startswith('250 2.0.0 Ok: queued as '):
        print(l.split()[-1], flush=True)
cmd('QUIT')
EOF
smtp() { # smtp FROM RCPT...: one message, prints its id
	python3 smtp.py "$S" q.cdb 1 "test $1" "$@"
}
run_once() { "$Q" -C q.cdb --once 2>>queue.log; }
waitlog() { # waitlog SECS FILE PATTERN: until a line of FILE matches
	i=0
	while ! grep -Eq -- "$3" "$2" && [ $i -lt $(($1 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
nqueue() { ls spool/queue | wc -l | tr -d ' '; }

# --- success, each exit code ------------------------------------------
id_ok=$(smtp sender@example.net ok@example.org two@example.org)
like "$id_ok" '^[0-9A-F]{30}$' "smtpd spooled a message"
run_once
ok $? "--once exits 0"
f=$(grep -l "\[$id_ok\]" out/d.0.* 2>/dev/null | head -1)
ok $([ -n "$f" ]; echo $?) "the pipe ran"
is "$(head -1 "$f")" "argv: [sender@example.net] [ok@example.org] [two@example.org] [$id_ok]" \
    "one process for the batch; \${RCPT_TO} repeats per recipient"
is "$(sed -n 2p "$f")" "Return-Path: <sender@example.net>" "Return-Path first on stdin"
ok $(grep -q "$(printf '\r')" "$f"; [ $? -ne 0 ]; echo $?) "stdin has LF line ends"
like "$(cat queue.log)" "$id_ok to=<ok@example.org> orig_to=<ok@example.org> relay=ok delay=[0-9]+s attempts=1 dsn=2.0.0 status=sent \(2.0.0 delivered: output of 0\)" "log line per delivery"
like "$(cat queue.log)" "$id_ok removed" "log line when the message leaves"
ok $([ ! -e "spool/queue/$id_ok" ] && [ ! -e "spool/state/$id_ok" ]; echo $?) "delivered message left the spool"

# --- temporary: 75, signal, other non-zero, timeout ---------------------
: >queue.log
id_t=$(smtp sender@example.net temp@example.org sig@example.org other@example.org slow@example.org)
run_once
ok $([ -e "spool/queue/$id_t" ]; echo $?) "temporary failures stay queued"
like "$(cat queue.log)" "to=<temp@example.org>.*dsn=4.3.0 status=deferred \(4.3.0 exit 75 \(EX_TEMPFAIL\): output of 75\)" "exit 75 defers"
like "$(cat queue.log)" "to=<sig@example.org>.*status=deferred \(4.3.0 program killed by signal 9" "a signal defers"
like "$(cat queue.log)" "to=<other@example.org>.*status=deferred \(4.3.0 exit 3" "exit 3 defers"
like "$(cat queue.log)" "to=<slow@example.org>.*dsn=4.4.7 status=deferred \(4.4.7 program timed out" "a timeout defers"
lst=$("$Q" -C q.cdb --list)
like "$lst" "^$id_t +[0-9]+ [0-9T:-]+Z  <sender@example.net>" "--list: id, size, arrival, sender"
like "$lst" "<temp@example.org> target=pipe:temp status=pending attempts=1 next=" "--list: recipient, status, attempts, next"
like "$lst" "\(x-unix; 4.3.0 exit 75 \(EX_TEMPFAIL\): output of 75\)" "--list: last reply"
: >queue.log
run_once
is "$(grep -c "$id_t to=" queue.log)" 0 "not retried before its time"
"$Q" -C q.cdb --flush
ok $? "--flush exits 0"
run_once
like "$(cat queue.log)" "$id_t to=<temp@example.org>.*attempts=2 " "retried after --flush"
like "$("$Q" -C q.cdb --list)" "<temp@example.org> target=pipe:temp status=pending attempts=2 next=20" "the next try is scheduled (backoff)"
"$Q" -C q.cdb --delete "$id_t" 2>>queue.log
ok $? "--delete exits 0"
ok $([ ! -e "spool/queue/$id_t" ]; echo $?) "--delete removed it"
"$Q" -C q.cdb --delete "$id_t" 2>/dev/null
is $? 66 "--delete of an unknown id exits 66"

# --- permanent: 67 bounces with a DSN ------------------------------------
: >queue.log
rm -f out/d.*
id_p=$(smtp sender@example.net perm@example.org)
run_once
like "$(cat queue.log)" "$id_p to=<perm@example.org>.*dsn=5.1.1 status=bounced \(5.1.1 exit 67 \(EX_NOUSER\): output of 67\)" "exit 67 bounces"
like "$(cat queue.log)" "$id_p removed" "bounced message leaves the queue"
b=$(grep -l "Undelivered Mail" out/d.0.* 2>/dev/null | head -1)
ok $([ -n "$b" ]; echo $?) "the bounce was delivered to the sender's route"
like "$(head -1 "$b")" "^argv: \[MAILER-DAEMON\] \[sender@example.net\]" "bounce from the null sender to the sender"
cat >dsn.py <<'EOF'
import email, sys
f = open(sys.argv[1], 'rb'); f.readline()
m = email.message_from_binary_file(f)
assert m.get_content_type() == 'multipart/report', m.get_content_type()
assert m.get_param('report-type') == 'delivery-status'
parts = m.get_payload()
print(parts[0].get_content_type(), parts[1].get_content_type(), parts[2].get_content_type())
st = parts[1].get_payload()
print('Reporting-MTA:', st[0]['Reporting-MTA'])
print('Arrival-Date:', 'yes' if st[0]['Arrival-Date'] else 'no')
for r in st[1:]:
    print('|'.join([r['Final-Recipient'], r['Original-Recipient'] or '', r['Action'], r['Status'], r['Diagnostic-Code'] or '']))
print('orig-subject:', email.message_from_string(parts[2].get_payload()).get('Subject') if isinstance(parts[2].get_payload(), str) else parts[2].get_payload()[0]['Subject'])
EOF
d=$(python3 dsn.py "$b" 2>&1)
like "$d" "^text/plain message/delivery-status text/rfc822-headers" "DSN structure (RFC 3464/6522)"
like "$d" "Reporting-MTA: dns; mx.test" "Reporting-MTA"
like "$d" "Arrival-Date: yes" "Arrival-Date"
like "$d" "rfc822; perm@example.org\|rfc822; perm@example.org\|failed\|5.1.1\|x-unix; 5.1.1 exit 67 \(EX_NOUSER\): output of 67" "per-recipient fields"
like "$d" "orig-subject: test sender@example.net" "original headers attached"

# --- the list rule ---------------------------------------------------------
: >queue.log
rm -f out/d.*
id_l=$(smtp sender@example.net list@example.org)
run_once
like "$(cat queue.log)" "$id_l to=<list@example.org>.*status=sent" "list: one target delivered"
like "$(cat queue.log)" "$id_l to=<list@example.org>.*relay=perm.*status=bounced" "list: the other failed"
ok $(grep -l "Undelivered" out/d.0.* | xargs grep -l "^argv: \[MAILER-DAEMON\] \[sender@example.net\]" >/dev/null 2>&1; [ $? -ne 0 ]; echo $?) "no bounce to the sender when one target succeeded"
ok $(grep -l "Undelivered" out/d.0.* | xargs grep -l "^argv: \[MAILER-DAEMON\] \[postmaster\]" >/dev/null 2>&1; echo $?) "the failed target is reported to postmaster"

# --- the null sender: failures go to postmaster, never loop -----------------
: >queue.log
rm -f out/d.*
id_n=$(smtp "" perm@example.org)
run_once
ok $(grep -l "^argv: \[MAILER-DAEMON\] \[postmaster\]" out/d.0.* >/dev/null 2>&1; echo $?) "a failed null-sender message is reported to postmaster"
is "$(nqueue)" 0 "and nothing stays queued"

# --- dash guard and cmd targets --------------------------------------------
: >queue.log
rm -f out/d.*
id_c=$(smtp sender@example.net cmd@example.org)
run_once
is "$(head -1 "$(grep -l "\[a b\]" out/d.0.* | head -1)")" "argv: [a b] [cmd] [example.org]" "\"|cmd\" targets: quotes and \${RCPT_LOCAL}/\${RCPT_DOMAIN}"
: >queue.log
rm -f out/d.*
id_d=$(smtp "-oQ/tmp@example.net" ok@example.org)
run_once
like "$(cat queue.log)" "$id_d to=<ok@example.org>.*status=bounced \(5.1.3 sender address starts with '-'" "a sender starting with '-' never becomes an option"

# --- local names: postmaster-lmtpd over a socketpair ------------------------
mkdir -p mail
chmod 777 mail
: >queue.log
id_m=$(smtp sender@example.net local@example.org)
run_once
like "$(cat queue.log)" "$id_m to=<joe> orig_to=<local@example.org> relay=lmtpd .*status=sent" "local name delivered by postmaster-lmtpd (LMTP)"
ok $(grep -q "^Subject: test sender@example.net" mail/joe/Maildir/new/* 2>/dev/null; echo $?) "the message is in joe's Maildir"

# One worker, five local messages: one postmaster-lmtpd carries them all
# (its connection cached like a TCP peer's), then gets QUIT and is reaped.
cfg "queue-concurrency = 1"
: >queue.log
python3 smtp.py "$S" q.cdb 5 x sender@example.net local@example.org >ids.local
is "$(wc -l <ids.local | tr -d ' ')" 5 "five local messages spooled"
run_once
is "$(grep -c 'to=<joe> orig_to=<local@example.org> relay=lmtpd.*status=sent' queue.log)" 5 "all five delivered by lmtpd"
is "$(grep -o 'relay=lmtpd conn_use=[0-9]*' queue.log | tr '\n' ' ')" \
    "relay=lmtpd conn_use=2 relay=lmtpd conn_use=3 relay=lmtpd conn_use=4 relay=lmtpd conn_use=5 " \
    "one postmaster-lmtpd for all five (conn_use 2..5 after the first)"
is "$(ls mail/joe/Maildir/new | wc -l | tr -d ' ')" 6 "joe's Maildir has the six messages"
ok $(! pgrep -f "postmaster-lmtpd -C $T_TMP/q.cdb" >/dev/null; echo $?) "no postmaster-lmtpd left running"
cfg ""

# A worker is replaced after its WORKER_MAX_USE messages (3 here): seven
# messages on one worker slot are delivered by three worker processes.
printf '#!/bin/sh\necho $PPID >>%s/out/ppids\ncat >/dev/null\n' "$T_TMP" >bin/ppid
chmod 755 bin/ppid
sed -i "s|^\[pipe \"ok\"\]|[pipe \"ppid\"]\nexec = \"$T_TMP/bin/ppid\"\n[pipe \"ok\"]|; s|^ok@example.org ok\$|ok@example.org ok\nppid@example.org ppid|; s|^\[core\]\$|[core]\nqueue-concurrency = 1|" q.cf
"$CF" -c q.cf -o q.cdb
: >out/ppids
chmod 666 out/ppids
python3 smtp.py "$S" q.cdb 7 x sender@example.net ppid@example.org >/dev/null
PM_QUEUE_WORKER_MAX_USE=3 "$Q" -C q.cdb --once 2>>queue.log
is "$(wc -l <out/ppids | tr -d ' ')" 7 "seven messages through the program"
is "$(sort out/ppids | uniq -c | awk '{ print $1 }' | sort -n | tr '\n' ' ')" "1 3 3 " \
    "three workers: 3 + 3 + 1 messages (a worker retires after its quota)"
cfg ""

# --- sd_notify READY and STATUS, SIGTERM, pid file --------------------------
cat >notify.py <<'EOF'
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)
s.settimeout(10)
out = open(sys.argv[2], 'w')
try:
    while True:
        out.write(s.recv(4096).decode() + '\n'); out.flush()
except Exception:
    pass
EOF
python3 notify.py "$T_TMP/notify.sock" notify.out &
np=$!
i=0
while [ ! -S notify.sock ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
cfg "pid-file = \"$T_TMP/queue.pid\""
NOTIFY_SOCKET="$T_TMP/notify.sock" "$Q" -C q.cdb 2>daemon.log &
qp=$!
i=0
while ! grep -q "READY=1" notify.out 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
id_w=$(smtp sender@example.net ok@example.org)
i=0
while [ -e "spool/queue/$id_w" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ok $([ ! -e "spool/queue/$id_w" ]; echo $?) "the running daemon delivers a new message at once (nudge)"
# The commit's "ID\n" line is taken out of the FIFO while the runner is
# stopped and replaced by WHAT: a legacy byte or garbage makes it rescan.
cat >nudge.py <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NONBLOCK)
try:
    got = os.read(fd, 65536)
except BlockingIOError:
    got = b''
os.write(fd, sys.argv[2].encode())
os.close(fd)
print(len(got))
EOF
for what in n 'garbage
'; do
	kill -STOP $qp
	id_l=$(smtp sender@example.net ok@example.org)
	stolen=$(python3 nudge.py spool/nudge "$what")
	kill -CONT $qp
	i=0
	while [ -e "spool/queue/$id_l" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	ok $([ "$stolen" = 31 ] && [ ! -e "spool/queue/$id_l" ]; echo $?) "nudge '$(printf %s "$what" | head -1)' instead of the id line: a full rescan delivers it"
done
like "$(cat notify.out)" "READY=1" "sd_notify READY=1"
like "$(cat notify.out)" "STATUS=[0-9]+ messages queued" "sd_notify STATUS with counts"
is "$(cat queue.pid 2>/dev/null)" "$qp" "pid file written"
id_f=$(smtp sender@example.net temp@example.org)
sleep 1
"$Q" -C q.cdb --flush
i=0
while ! grep -q "flush: " daemon.log && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
like "$(cat daemon.log)" "flush: [0-9]+ messages due now" "--flush nudges the running runner"
kill -HUP $qp
i=0
while ! grep -q "SIGHUP: reopened" daemon.log && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
like "$(cat daemon.log)" "SIGHUP: reopened .*q.cdb" "SIGHUP reopens the CDB"
kill -TERM $qp
wait $qp
is $? 0 "SIGTERM: exit 0"
ok $([ ! -e queue.pid ]; echo $?) "pid file removed"
kill $np 2>/dev/null
"$Q" -C q.cdb --delete "$id_f" 2>>queue.log

# --- SIGHUP reaches the very next delivery ----------------------------------
# A retry falls due while the runner is stopped; the CDB is replaced by
# one whose [pipe "temp"] exits 0, then SIGHUP and SIGCONT: the pass that
# reloads finds the retry due, and the idle worker forked with the old
# configuration must not take it.
cfg "queue-concurrency = 1" 1s
rm -f out/d.*
"$Q" -C q.cdb 2>hup.log &
qp=$!
id_h=$(smtp sender@example.net temp@example.org)
waitlog 10 hup.log "$id_h to=<temp@example.org>.* status=deferred"
sleep 0.3	# the runner has had its worker's reply: that worker is idle
kill -STOP $qp
sed 's/"75"/"0"/' q.cf >q2.cf && "$CF" -c q2.cf -o q2.cdb && mv q2.cdb q.cdb
# the retry is due: the clock passes the next attempt the state records
due=$(awk '$1 == "dlv" && $3 == "pending" { print $5; exit }' "spool/state/$id_h" 2>/dev/null)
i=0
while [ "$(date +%s)" -le "${due:-0}" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ok $([ -n "$due" ] && [ "$(date +%s)" -gt "$due" ]; echo $?) \
    "the deferred attempt's state records its next attempt ($due), now past"
kill -HUP $qp
kill -CONT $qp
waitlog 5 hup.log "$id_h to=<temp@example.org>.* status=sent"
like "$(grep "$id_h to=" hup.log)" "attempts=2 dsn=2.0.0 status=sent" \
    "SIGHUP while stopped with a retry due: that retry runs the new [pipe]"
is "$(ls out/d.75.* 2>/dev/null | wc -l | tr -d ' ')" 1 \
    "the old one ran for the first attempt only"
kill -TERM $qp
wait $qp
is $? 0 "SIGTERM: exit 0"

# --- a window of 3 messages: the rest is paged in from queue/ ----------------
ids_win=
for n in 1 2 3 4 5 6 7 8; do
	ids_win="$ids_win $(smtp sender@example.net ok@example.org)"
done
is "$(nqueue)" 8 "8 messages queued with no runner"
PM_QUEUE_WINDOW=3 "$Q" -C q.cdb 2>window.log &
qp=$!
i=0
while [ "$(nqueue)" != 0 ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
is "$(nqueue)" 0 "a runner holding 3 messages in memory delivers all 8 (page-in)"
like "$(cat window.log)" "started: 8 messages in the queue" "the start-up count includes those outside the window"
kill -TERM $qp
wait $qp

# --- retries through an SMTP peer: 4xx, then 2xx ----------------------------
cat >sink.py <<'EOF'
import socket, sys
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(5)
print(s.getsockname()[1], flush=True)
n = 0
while True:
    c, _ = s.accept(); f = c.makefile('rb'); n += 1
    c.sendall(b'220 sink ESMTP\r\n')
    while True:
        l = f.readline()
        if not l: break
        cmd = l[:4].upper()
        if cmd in (b'EHLO', b'HELO'): c.sendall(b'250 sink\r\n')
        elif cmd == b'MAIL': c.sendall(b'250 ok\r\n')
        elif cmd == b'RCPT':
            c.sendall(b'451 4.7.1 try again later\r\n' if n == 1 else b'250 ok\r\n')
        elif cmd == b'DATA':
            c.sendall(b'354 go\r\n')
            while f.readline() not in (b'.\r\n', b''): pass
            c.sendall(b'250 2.0.0 accepted\r\n')
        elif cmd == b'RSET': c.sendall(b'250 ok\r\n')
        elif cmd == b'QUIT': c.sendall(b'221 bye\r\n'); break
        else: c.sendall(b'502 no\r\n')
    c.close()
EOF
python3 sink.py >sink.port &
sp=$!
i=0
while [ ! -s sink.port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
SINKPORT=$(cat sink.port)
cfg ""
: >queue.log
id_r=$(smtp sender@example.net relay@example.org)
run_once
like "$(cat queue.log)" "$id_r to=<relay@example.org>.*relay=.*dsn=4.7.1 status=deferred \(451 4.7.1 try again later\)" "SMTP 4xx defers"
"$Q" -C q.cdb --flush
run_once
like "$(cat queue.log)" "$id_r to=<relay@example.org>.*attempts=2 dsn=2.0.0 status=sent" "then 2xx delivers"

# A worker gives up root for good before a network delivery; a program
# that must run as another user then needs a worker that kept it.
if [ "$(id -u)" = 0 ] && id daemon >/dev/null 2>&1; then
	printf '#!/bin/sh\nid -un >>%s/out/asuser\ncat >/dev/null\n' "$T_TMP" >bin/whoami
	chmod 755 bin/whoami
	cfg "queue-concurrency = 1"
	: >queue.log
	id_n=$(smtp sender@example.net relay@example.org)
	id_p=$(smtp sender@example.net asuser@example.org)
	run_once
	like "$(cat queue.log)" "$id_n to=<relay@example.org>.*status=sent" "one worker: the network delivery first"
	like "$(cat queue.log)" "$id_p to=<asuser@example.org>.*status=sent" "then the program as another user, in a worker that kept root"
	is "$(cat out/asuser 2>/dev/null)" daemon "the program ran as user daemon"
	is "$(nqueue)" 0 "both delivered in one --once pass"

	# Such a message costs one worker, not one per retry: its mark is
	# cleared once attempted. The only worker drops root for a network
	# delivery; the next message has the program and a recipient at a
	# closed port: handed back, it gets a fresh worker that kept root,
	# which runs the program, drops root and defers the other, whose
	# retries (1 s apart) stay on it. Workers sampled every 0.1 s.
	cfg "queue-concurrency = 1
retry-max-interval = 1s" 1s
	rm -f out/asuser
	"$Q" -C q.cdb 2>sticky.log &
	qp=$!
	id_n=$(smtp sender@example.net relay@example.org)
	waitlog 10 sticky.log "$id_n removed"
	id_p=$(smtp sender@example.net asuser@example.org down@example.org)
	pids=
	i=0
	while ! grep -q "$id_p to=<down@example.org>.* attempts=5 " sticky.log &&
	    [ $i -lt 150 ]; do
		pids="$pids $(pgrep -P $qp)"
		sleep 0.1
		i=$((i + 1))
	done
	like "$(cat sticky.log)" "$id_p to=<down@example.org>.* attempts=5 dsn=4.4.1 status=deferred" \
	    "a program as another user and a closed port: 4 retries"
	is "$(cat out/asuser 2>/dev/null)" daemon "the program ran once, as daemon"
	n=$(printf '%s\n' $pids | sort -u | grep -c .)
	ok $([ "$n" -le 2 ]; echo $?) "at most 2 workers in all ($n), not a fresh one per retry"
	kill -TERM $qp
	wait $qp
	is $? 0 "SIGTERM: exit 0"
	"$Q" -C q.cdb --delete "$id_p" 2>>queue.log
else
	for i in 1 2 3 4 5 6 7 8; do skip "not root: no program as another user"; done
fi

# A postmaster-lmtpd started as root (~/Maildir) stays cached for local
# mail, but not past the worker's drop of root before a network delivery.
LU=pmqlm$$
if [ "$(id -u)" = 0 ] && useradd -M -d "$T_TMP/home/$LU" -s /usr/sbin/nologin "$LU"; then
	trap 'userdel "$LU" 2>/dev/null; t_cleanup' EXIT
	mkdir -p "home/$LU" && chown "$LU" "home/$LU"
	cfg "queue-concurrency = 1"
	sed -i "s|^maildir = .*|maildir = \"~/Maildir\"|; s|^local@example.org joe\$|local@example.org $LU|" q.cf
	"$CF" -c q.cf -o q.cdb
	root_lmtpd() { # lmtpd processes running as root under this runner's workers
		ps -eo pid=,ppid=,user=,args= | awk -v q="$qp" '
		    { pp[$1] = $2 }
		    $3 == "root" && $4 == "postmaster-lmtpd" { c[$1] = $2 }
		    END { n = 0; for (p in c) if (pp[c[p]] == q) n++; print n }'
	}
	: >queue.log
	"$Q" -C q.cdb 2>>queue.log &
	qp=$!
	waitlog 10 queue.log "started:"
	id_l=$(smtp sender@example.net local@example.org)
	waitlog 10 queue.log "$id_l removed"
	is "$(root_lmtpd)" 1 "the worker keeps its root postmaster-lmtpd (~/Maildir) for the next local message"
	id_n=$(smtp sender@example.net relay@example.org)
	waitlog 10 queue.log "$id_n removed"
	is "$(root_lmtpd)" 0 "and closes it when it gives up root for a network delivery"
	id_l2=$(smtp sender@example.net local@example.org)
	waitlog 10 queue.log "$id_l2 removed"
	is "$(ls "home/$LU/Maildir/new" | wc -l | tr -d ' ')" 2 "the next local message is delivered as the user all the same"
	is "$(stat -c %U "home/$LU/Maildir/new/$(ls "home/$LU/Maildir/new" | tail -1)")" "$LU" "its file belongs to the user"
	# Unused for 5 s, the cached lmtpd gets QUIT; it is reaped, not left
	# a zombie under the idle worker (a zombie keeps its name in ps).
	worker_lmtpd() { # lmtpd processes, live or zombie, under this runner's workers
		ps -eo pid=,ppid=,comm= | awk -v q="$qp" '
		    { pp[$1] = $2; if ($3 ~ /^postmaster-lmtp/) c[$1] = $2 }
		    END { n = 0; for (p in c) if (pp[c[p]] == q) n++; print n }'
	}
	is "$(worker_lmtpd)" 1 "the lmtpd of the last local message is cached"
	i=0
	while [ "$(worker_lmtpd)" != 0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	is "$(worker_lmtpd)" 0 \
	    "the idle lmtpd is closed and reaped (no zombie) while the worker lives"
	ok $(pgrep -P $qp >/dev/null; echo $?) "and its worker is still there"
	kill -TERM $qp
	wait $qp
else
	for i in 1 2 3 4 5 6 7; do skip "not root or no useradd: no root lmtpd"; done
fi
kill $sp 2>/dev/null

# --- SIGKILL at random instants during heavy delivery ----------------------
cat >bin/append <<EOF
#!/bin/sh
m=\$(grep -m1 '^Subject:' | cut -d' ' -f2-)
sleep 0.3
echo "\$m" >>"$T_TMP/out/crash.log"
EOF
chmod 755 bin/append
: >out/crash.log
chmod 666 out/crash.log
cfg "queue-concurrency = 3"
python3 smtp.py "$S" q.cdb 200 x s@example.net crash@example.org | wc -l | tr -d ' ' >n.spooled
is "$(cat n.spooled)" 200 "200 messages spooled"
# What a kill leaves in flight: messages delivered since the last kill
# (their count in out/crash.log grew) whose queue file is still there.
# Each is delivered again once, and a runner has at most
# queue-concurrency (3) deliveries running when it dies.
: >out/seen
inflight() {
	set -- spool/queue/*
	[ -e "$1" ] || set --
	: >out/now
	awk 'FILENAME == "out/seen" { was[$1] = $2; next }
	    FILENAME == "out/crash.log" { sub(/\r$/, ""); now[$0]++; next }
	    /^Subject: / { sub(/\r$/, ""); q[substr($0, 10)] = 1; nextfile }
	    END {
		for (m in now) {
			print m, now[m] >"out/now"
			if (now[m] > was[m] && (m in q))
				n++
		}
		print n + 0
	    }' out/seen out/crash.log "$@"
	mv out/now out/seen
}
kills=0
inflight_sum=0
inflight_max=0
end=$(($(date +%s) + 180))	# a bound for a stuck loop, not a measure
while [ $kills -lt 70 ] && [ "$(date +%s)" -lt $end ] && [ "$(nqueue)" -gt 0 ]; do
	"$Q" -C q.cdb 2>>crash.log &
	qp=$!
	sleep 0.$(( ($(od -An -N1 -tu1 /dev/urandom) % 12) + 3 ))
	kill -KILL $qp 2>/dev/null
	wait $qp 2>/dev/null
	kills=$((kills + 1))
	# its workers and their programs die with it (PR_SET_PDEATHSIG)
	i=0
	while pgrep -f "$T_TMP/bin/append" >/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	n=$(inflight)
	inflight_sum=$((inflight_sum + n))
	[ "$n" -gt $inflight_max ] && inflight_max=$n
done
"$Q" -C q.cdb --once 2>>crash.log
is "$(nqueue)" 0 "after $kills SIGKILLs and a final run the queue is empty"
is "$(sort -u out/crash.log | wc -l | tr -d ' ')" 200 "every message delivered, none lost"
dups=$(($(wc -l <out/crash.log) - 200))
ok $([ $inflight_max -le 3 ]; echo $?) \
    "a kill leaves at most queue-concurrency (3) delivered messages queued ($inflight_max)"
ok $([ $dups -le $inflight_sum ]; echo $?) \
    "duplicates ($dups) only of messages in flight at a kill ($inflight_sum)"
echo "# $kills kills, $dups duplicates, $inflight_sum in flight at kills"
ok $([ $kills -ge 50 ]; echo $?) "at least 50 kill/restart cycles ($kills)"
is "$(ls spool/state | wc -l | tr -d ' ')" 0 "no state file left"

done_testing
