#!/bin/sh
# postmaster-lmtpd end to end: swaks in LMTP mode over a pipe and over a
# unix socket (systemd-socket-activate), virtual and system-user Maildirs,
# byte-for-byte contents, unknown user 550, loop 554, per-recipient
# replies with one recipient failing, disk full 452 (tmpfs).
. "$(dirname "$0")/lib.sh"
LMTPD="$PM_BIN/postmaster-lmtpd"
CFC="$PM_BIN/postmaster-cfcompile"
command -v swaks >/dev/null || skip_all "swaks not installed"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (delivery as other users)"
cd "$T_TMP" || exit 1
chmod 755 "$T_TMP"
trap 't_cleanup' EXIT

# --- virtual mailboxes, owned by [core] user-id (nobody here) ------------
mkdir mail && chown nobody:nogroup mail
cat >virt.cf <<EOF
[core]
hostname = lmtp.example.test
user-id = nobody
group-id = nogroup
[lmtpd]
maildir = "$T_TMP/mail/%d/%u/Maildir"
EOF
"$CFC" -c virt.cf -o virt.cdb
ok $? "virtual config compiles"

# swaks dot-stuffs the data and ends it with one more CRLF.
printf 'From: a@example.org\r\nTo: joe@example.test\r\nSubject: hi\r\n\r\nline one\r\n.dot\r\nlast\r\n' >msg1
lmtp() { # lmtp CDB FROM TO-LIST DATA-FILE [swaks args]
	cdb=$1 from=$2 to=$3 data=$4
	shift 4
	swaks --protocol LMTP --pipe "$LMTPD -C $cdb" -f "$from" -t "$to" \
	    --data "@$data" "$@" 2>lmtpd.err
}
lmtp virt.cdb a@example.org joe@example.test,ann@example.test msg1 >out
ok $? "swaks LMTP session succeeds"
is "$(grep -E '^<.. 250 2\.0\.0' out | sed 's/^<.. //')" "250 2.0.0 <joe@example.test> Delivered
250 2.0.0 <ann@example.test> Delivered" "one 250 per recipient, in RCPT order"
like "$(head -1 out; grep -m1 '250-PIPELINING' out; grep -c -E '250.(ENHANCEDSTATUSCODES|8BITMIME|CHUNKING|PIPELINING)' out)" \
    '4$' "LHLO offers PIPELINING ENHANCEDSTATUSCODES 8BITMIME CHUNKING"
f=$(ls mail/example.test/joe/Maildir/new/* 2>/dev/null | head -1)
printf 'Return-Path: <a@example.org>\nDelivered-To: joe@example.test\nFrom: a@example.org\nTo: joe@example.test\nSubject: hi\n\nline one\n.dot\nlast\n\n' >want1
cmp -s "$f" want1
ok $? "joe's Maildir file is byte for byte the message (LF, unstuffed, headers added)"
is "$(stat -c %U "$f")" "nobody" "virtual mailbox files belong to the postmaster user"
is "$(ls mail/example.test/joe/Maildir/tmp | wc -l)" 0 "nothing left in tmp/"
is "$(ls mail/example.test/ann/Maildir/new | wc -l)" 1 "ann got her copy"
like "$(cat lmtpd.err)" "delivery: to=<joe@example.test> from=<a@example.org> status=sent size=[0-9]+ maildir=$T_TMP/mail/example.test/joe/Maildir/new/" \
    "one log line per recipient with status and file"

# --- loop: Delivered-To for one recipient only ---------------------------
printf 'Delivered-To: joe@example.test\r\nSubject: loop\r\n\r\nx\r\n' >loop
lmtp virt.cdb a@example.org joe@example.test,ann@example.test loop >out
is "$(grep -E '^<.. [245][0-9][0-9] [245]\.[0-9]\.[0-9] <' out | sed 's/^<.. //')" "554 5.4.6 <joe@example.test> Mail loop detected
250 2.0.0 <ann@example.test> Delivered" "Delivered-To loop: 554 for that recipient, 250 for the other"
is "$(ls mail/example.test/joe/Maildir/new | wc -l)" 1 "no second file for joe"

# --- unsafe addresses under a template ------------------------------------
printf 'Subject: x\r\n\r\nx\r\n' >small
lmtp virt.cdb a@example.org 'a/b@example.test' small >out
like "$(grep -E '^<.. 5' out)" "550 5.1.3 <a/b@example.test>: Mailbox name not allowed" "a local part that is no safe file name is refused at RCPT"

# --- SMTPUTF8 (RFC 6531 for LMTP): UTF-8 addresses and header, raw --------
# dialog.py CMD...: speaks to lmtpd on a pipe, one command at a time. Each
# line of stdin is "N TEXT": TEXT is sent ("\r\n" in it as CRLF, so a whole
# DATA body is one line), then N replies are read; every reply line printed.
cat >dialog.py <<'EOF'
import subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE,
    stdout=subprocess.PIPE, stderr=open('lmtpd.err', 'ab'))
out = sys.stdout.buffer
def replies(n):
    for _ in range(n):
        while True:
            l = p.stdout.readline()
            out.write(l.rstrip(b'\r\n') + b'\n' if l else b'<EOF>\n')
            if l[3:4] != b'-':
                break
replies(1)
for line in sys.stdin.buffer.read().split(b'\n'):
    if line:
        p.stdin.write(line[2:].replace(b'\\r\\n', b'\r\n') + b'\r\n')
        p.stdin.flush()
        replies(int(line[:1]))
p.stdin.close()
p.wait()
EOF
printf '%s\n' '1 LHLO client.test' '1 MAIL FROM:<sé@example.org> SMTPUTF8' \
    '1 RCPT TO:<jösé@example.test>' '1 RCPT TO:<ann@example.test>' '1 DATA' \
    '2 From: sé@example.org\r\nSubject: Grüße\r\n\r\nbödy\r\n.' \
    '1 MAIL FROM:<a@example.org>' '1 RCPT TO:<jösé@example.test>' '1 QUIT' |
    python3 dialog.py "$LMTPD" -C virt.cdb >out
is "$(cat out)" "220 lmtp.example.test LMTP Postmaster
250-lmtp.example.test
250-PIPELINING
250-SIZE 36700160
250-8BITMIME
250-ENHANCEDSTATUSCODES
250-SMTPUTF8
250 CHUNKING
250 2.1.0 Ok
250 2.1.5 Ok
250 2.1.5 Ok
354 End data with <CR><LF>.<CR><LF>
250 2.0.0 <jösé@example.test> Delivered
250 2.0.0 <ann@example.test> Delivered
250 2.1.0 Ok
553 5.6.7 Error: non-ASCII recipient address requires SMTPUTF8
221 2.0.0 lmtp.example.test Bye" "SMTPUTF8: offered after LHLO, UTF-8 sender and recipient taken; without it 553 5.6.7"
f=$(ls mail/example.test/jösé/Maildir/new/* 2>/dev/null | head -1)
printf 'Return-Path: <sé@example.org>\nDelivered-To: jösé@example.test\nFrom: sé@example.org\nSubject: Grüße\n\nbödy\n' >want3
cmp -s "$f" want3
ok $? "the UTF-8 named Maildir holds the message byte for byte (raw UTF-8 Return-Path, Delivered-To, header)"

# Not characters of a name: a C1 control (NEL), the line separator, a
# right-to-left override (the "gpj.exe" trick) and an isolate. Each is
# refused at RCPT, so no Maildir can be made for it.
printf '1 LHLO client.test\n1 MAIL FROM:<s\303\251@example.org> SMTPUTF8\n1 RCPT TO:<a\302\205b@example.test>\n1 RCPT TO:<a\342\200\250b@example.test>\n1 RCPT TO:<gpj.\342\200\256exe@example.test>\n1 RCPT TO:<\342\201\246ann@example.test>\n1 QUIT\n' |
    python3 dialog.py "$LMTPD" -C virt.cdb | sed -n '/^250 2.1.0/,$p' >out
# The address parser refuses them before routing (lib/smtp/smtp_addr.c);
# lib/deliver/deliver_path.c refuses them again for mailbox names that
# reach lmtpd another way (t/unit/deliver_path.c).
why="Error: recipient address contains a control or bidi formatting character"
is "$(cat out)" "$(printf '250 2.1.0 Ok\n501 5.1.3 %s\n501 5.1.3 %s\n501 5.1.3 %s\n501 5.1.3 %s\n221 2.0.0 lmtp.example.test Bye' "$why" "$why" "$why" "$why")" \
    "C1, U+2028, U+202E and U+2066 in a local part: 501 5.1.3 at RCPT"

# --- over a unix socket, as systemd runs it --------------------------------
if command -v systemd-socket-activate >/dev/null; then
	systemd-socket-activate -a --inetd -l "$T_TMP/lmtp.sock" "$LMTPD" -C virt.cdb >/dev/null 2>sock.err &
	sap=$!
	i=0; while [ ! -S lmtp.sock ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
	swaks --protocol LMTP --socket "$T_TMP/lmtp.sock" -f a@example.org \
	    -t sock@example.test --data @msg1 >out 2>&1
	like "$(grep '^<-  250 2.0.0' out)" "250 2.0.0 <sock@example.test> Delivered" "delivery over a unix socket"
	is "$(ls mail/example.test/sock/Maildir/new | wc -l)" 1 "the socket delivery landed"
	kill $sap 2>/dev/null; wait $sap 2>/dev/null
else
	skip "systemd-socket-activate not installed"
	skip "systemd-socket-activate not installed"
fi

# --- disk full: 452 4.3.1, no partial file ---------------------------------
if unshare -m true 2>/dev/null; then
	{ head -c 200000 /dev/zero | tr '\0' 'x'; echo; } | fold -w 70 | sed 's/$/\r/' >big
	printf 'Subject: big\r\n\r\n' | cat - big >bigmsg
	mkdir full
	unshare -m sh -c "mount -t tmpfs -o size=64k,mode=0777 tmpfs '$T_TMP/full' &&
	    sed 's|$T_TMP/mail|$T_TMP/full|' virt.cf >full.cf &&
	    '$CFC' -c full.cf -o full.cdb &&
	    swaks --protocol LMTP --pipe '$LMTPD -C $T_TMP/full.cdb' -f a@example.org \
	        -t joe@example.test,ann@example.test --data @bigmsg >out 2>/dev/null;
	    find '$T_TMP/full' -type f | wc -l >files"
	is "$(grep -E '^<.. 452' out | sed 's/^<.. //')" "452 4.3.1 <joe@example.test> Insufficient system storage
452 4.3.1 <ann@example.test> Insufficient system storage" "full disk: 452 4.3.1 per recipient"
	is "$(cat files)" 0 "full disk: no partial file anywhere"
else
	skip "unshare -m not permitted"
	skip "unshare -m not permitted"
fi

# --- system users: ~/Maildir, written as the user --------------------------
U=pmlmtpt$$
useradd -M -d "$T_TMP/home/$U" -s /usr/sbin/nologin "$U" || skip_all "useradd failed"
trap 'userdel "$U" 2>/dev/null; t_cleanup' EXIT
mkdir -p "home/$U" && chown "$U" "home/$U"
printf '[lmtpd]\nmaildir = "~/Maildir"\n' >sys.cf
"$CFC" -c sys.cf -o sys.cdb
lmtp sys.cdb a@example.org "$U@example.test,nosuchuser$$@example.test,root@example.test" msg1 >out
like "$(grep -E '^<.. 550' out | head -1)" "550 5.1.1 <nosuchuser$$@example.test>: Recipient address rejected: User unknown" "unknown system user: 550 5.1.1 at RCPT"
like "$(grep -E '^<.. 550' out | sed -n 2p)" "550 5.7.1 <root@example.test>: Refusing to deliver as root" "root: 550 5.7.1 at RCPT"
like "$(grep -E '^<.. 250 2.0.0' out)" "250 2.0.0 <$U@example.test> Delivered" "the known user gets 250"
f=$(ls "home/$U/Maildir/new/"* 2>/dev/null | head -1)
is "$(stat -c %U "$f" 2>/dev/null)" "$U" "the file belongs to the user"
is "$(stat -c %U "home/$U/Maildir")" "$U" "so does the Maildir"
sed "2s/.*/Delivered-To: $U@example.test/" want1 >want2
cmp -s "$f" want2
ok $? "system user's file byte for byte"

# --- system accounts: below [core] first-valid-uid (default 1000), nobody ---
uid=$(id -u "$U")
is "$(getent passwd daemon | cut -d: -f3)" 1 "daemon is a system account (uid 1)"
is "$(getent passwd nobody | cut -d: -f3)" 65534 "nobody is the overflow uid"
# A system account whose home lmtpd could write: only the floor keeps a
# Maildir from appearing there.
S=pmsyst$$
useradd -r -M -d "$T_TMP/home/$S" -s /usr/sbin/nologin "$S" || skip_all "useradd -r failed"
trap 'userdel "$U" 2>/dev/null; userdel "$S" 2>/dev/null; t_cleanup' EXIT
suid=$(id -u "$S")
mkdir -p "home/$S" && chown "$S" "home/$S"
lmtp sys.cdb a@example.org "daemon@example.test,$S@example.test,nobody@example.test,$U@example.test" msg1 >out
is "$(grep -E '^<.. [245][0-9][0-9] [245]\.[0-9]\.[0-9]' out | grep -v ' 221 ' | sed 's/^<.. //')" \
    "250 2.1.0 Ok
550 5.1.1 <daemon@example.test>: Recipient address rejected: User unknown in local recipient table
550 5.1.1 <$S@example.test>: Recipient address rejected: User unknown in local recipient table
550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in local recipient table
250 2.1.5 Ok
250 2.0.0 <$U@example.test> Delivered" \
    "system accounts (uid < 1000) and nobody (65534) are refused 550 5.1.1 at RCPT; the test's user (uid $uid) gets its mail"
like "$(cat lmtpd.err)" "refused: to=<daemon@example.test> user=daemon uid=1: below \[core\] first-valid-uid 1000" \
    "the log says why (daemon)"
like "$(cat lmtpd.err)" "refused: to=<nobody@example.test> user=nobody uid=65534: the overflow uid" \
    "the log says why (nobody)"
is "$(ls -A "home/$S")" "" "nothing written in the system account's (writable) home"
printf '[core]\nfirst-valid-uid = %s\n[lmtpd]\nmaildir = "~/Maildir"\n' $((uid + 1)) >sys2.cf
"$CFC" -c sys2.cf -o sys2.cdb
ok $? "[core] first-valid-uid compiles"
lmtp sys2.cdb a@example.org "$U@example.test" msg1 >out
is "$(grep -E '^<.. 5' out | sed 's/^<.. //')" \
    "550 5.1.1 <$U@example.test>: Recipient address rejected: User unknown in local recipient table" \
    "[core] first-valid-uid = uid + 1 refuses the test's user too"
is "$(ls "home/$U/Maildir/new" | wc -l | tr -d ' ')" 2 "and writes nothing for it (two messages from before)"
printf '[core]\nfirst-valid-uid = %s\n[lmtpd]\nmaildir = "~/Maildir"\n' "$suid" >sys3.cf
"$CFC" -c sys3.cf -o sys3.cdb
lmtp sys3.cdb a@example.org "nobody@example.test,$S@example.test" msg1 >out
is "$(grep -E '^<.. [25][0-9][0-9] [25]\.[0-9]\.[0-9] <' out | sed 's/^<.. //')" \
    "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in local recipient table
250 2.0.0 <$S@example.test> Delivered" \
    "a floor below 65534 still refuses nobody; the account at the floor gets mail"
printf '[lmtpd]\nfirst-valid-uid = 1000\n' >old.cf
"$CFC" -c old.cf -o old.cdb 2>err
is "$?:$(cat err | head -1)" "65:old.cf:2:1: unknown key 'first-valid-uid' in [lmtpd]" \
    "the key is [core]'s now, not [lmtpd]'s"

done_testing
