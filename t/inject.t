#!/bin/sh
# postmaster-inject end to end: a cron-style `sendmail -t -i` by an
# unprivileged user through a setgid-postdrop copy, pickup into the queue
# (inject_pickup_run driven by a tiny C program), -bs, options, Bcc
# removal, added headers, malformed headers (65), missing maildrop (75),
# disk full (75, nothing half-written).
. "$(dirname "$0")/lib.sh"
INJ="$PM_BIN/postmaster-inject"
CFC="$PM_BIN/postmaster-cfcompile"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (creates a user and a group)"
cd "$T_TMP" || exit 1
chmod 755 "$T_TMP"

U=pminj$$
t_add_user "$U" -c "Injection Tester,room 1" || skip_all "useradd failed"
UID_U=$(id -u "$U")

# The pickup driver (t/data/pickup_drive.c): one pass, as the runner makes it.
PICKUP=$PM_BIN/t/data/pickup_drive

SPOOL=$T_TMP/spool
cat >pm.cf <<EOF
[core]
hostname = mail.example.test
spool-directory = "$SPOOL"
user-id = root
group-id = root
[route]
@example.test = joe
a@example.net = joe
EOF
"$CFC" -c pm.cf -o pm.cdb
ok $? "config compiles"
mkdir -m 755 "$SPOOL"
"$PICKUP" pm.cdb "$SPOOL" >/dev/null	# creates tmp/ queue/ state/ nudge
install -d -m 1730 -o root -g postdrop "$SPOOL/maildrop"
cp "$INJ" sendmail && chgrp postdrop sendmail && chmod 2755 sendmail

md() { ls "$SPOOL/maildrop" | wc -l; }
q1() { ls "$SPOOL/queue" | head -1; }
body_of() { sed -n '/^end$/,$p' "$1" | sed 1d; }

# --- cron style, as an unprivileged user ---------------------------------
# su clears the environment: keep the sanitizer settings of `make check`.
SANENV="ASAN_OPTIONS='${ASAN_OPTIONS:-detect_leaks=0}' UBSAN_OPTIONS='${UBSAN_OPTIONS:-}'"
# An ordinary user cannot choose the CDB of a setgid inject: it names
# the spool, and so where group postdrop writes.
su -s /bin/sh "$U" -c "cd /; echo x | $SANENV '$T_TMP/sendmail' -C '$T_TMP/pm.cdb' b@example.test" >out 2>err
is "$?:$(cat out err)" "77:sendmail: fatal: -C $T_TMP/pm.cdb: only root or the postmaster user may choose the configuration" "-C from an ordinary user: exit 77, one line"
is "$(md)" 0 "and nothing dropped"
# The user's inject reads /etc/postmaster.cdb: a private /etc holds ours.
mkdir -p "$T_TMP/etc" && cp pm.cdb "$T_TMP/etc/postmaster.cdb"
as_user() { # as_user 'COMMANDS': as $U with /etc/postmaster.cdb = pm.cdb
	t_private_etc "su -s /bin/sh '$U' -c \"cd /; $1\""
}
as_user "umask 077; printf 'To: x@example.test\nSubject: s\nBcc: secret@example.org\n\nbody\n.\nmore\n' | $SANENV '$T_TMP/sendmail' -t -i" >out 2>err
is "$?:$(cat out err)" "0:" "printf | sendmail -t -i as $U under umask 077: exit 0, silent"
is "$(md)" 1 "one file in the maildrop"
f=$(ls "$SPOOL"/maildrop/m.* 2>/dev/null)
is "$(stat -c "%U %a" "$f")" "$U 444" "owned by the user, 0444 whatever the umask"
su -s /bin/sh "$U" -c "ls '$SPOOL/maildrop'" >/dev/null 2>&1
ok $((! $?)) "the user cannot list the maildrop"
is "$("$PICKUP" pm.cdb "$SPOOL")" "rc=0 moved=1" "pickup moves it into the queue"
is "$(md)" 0 "maildrop empty after pickup"
Q="$SPOOL/queue/$(q1)"
is "$(sed -n 's/^helo //p; s/^proto //p; s/^instance //p; s/^client //p' "$Q" | tr '\n' ' ')" "uid=$UID_U local local inject " "envelope: uid, proto, client, instance"
is "$(sed -n 's/^sender //p' "$Q")" "$U@mail.example.test" "sender: the user at [core] hostname"
is "$(grep -E '^(rcpt|deliver|target) ' "$Q" | tr '\n' '|')" "rcpt x@example.test|deliver joe|target local:joe|rcpt secret@example.org|deliver secret@example.org|target mx:example.org|" "-t: To and Bcc recipients, routed afresh"
body_of "$Q" >b
like "$(head -2 b | tr '\r\n' '  ')" "^Received: by mail.example.test \(Postmaster, from userid $UID_U\)  	id [0-9A-F]{30}; " "Received: names the uid"
ok "$(grep -ci '^bcc:' b)" "Bcc removed"
like "$(grep '^From: ' b)" "^From: Injection Tester <$U@mail.example.test>.$" "From: from the passwd gecos"
like "$(grep -c -E '^(Date: [A-Z][a-z]{2}, [0-9]+ [A-Z][a-z]{2} 20[0-9]{2} [0-9:]{8} [+-][0-9]{4}|Message-ID: <[0-9A-F]{30}\.inject@mail\.example\.test>).$' b)" '^2$' "Date and Message-ID added"
is "$(sed -n '/^\r$/,$p' b | od -An -c | tr -s ' ' | tr -d '\n')" " \r \n b o d y \r \n . \r \n m o r e \r \n" "-i: the lone dot is data; CRLF in the spool"
rm -f "$SPOOL"/queue/*

inject() { # inject ARGS... < message ; rc gives the exit code
	"$T_TMP/sendmail" -C "$T_TMP/pm.cdb" "$@" >out 2>err
	echo $? >"$T_TMP/rc"
}
rc() { cat "$T_TMP/rc"; }
last() { ls -t "$SPOOL"/maildrop/m.* 2>/dev/null | head -1; }

# --- options ---------------------------------------------------------------
printf 'Subject: dot\n\nbefore\n.\nafter\n' | inject b@example.test
is "$(rc)" 0 "recipients as arguments"
body_of "$(last)" | grep -q after
ok $((! $?)) "without -i a lone dot ends the message"
printf 'Subject: o\n\nx\n' | inject -oi -oem -odi -odb -oQ/var -v -B 8BITMIME -N never -R hdrs -V envid -X /dev/null -L tag -O Foo=bar -em -U -G -h 17 -f '<s@example.org>' -F 'Ann "the" Sender' b@example.test
is "$(rc):$(cat err)" "0:" "the options sendmail accepts are accepted"
is "$(sed -n 's/^sender //p' "$(last)")" "s@example.org" "-f sets the envelope sender"
like "$(body_of "$(last)" | grep '^From:')" '^From: "Ann \\"the\\" Sender" <s@example.org>.$' "-F names From:, quoted as RFC 5322 needs"
printf 'From: me@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <x@y>\n\nx\n' | inject -r r@example.org b@example.test
is "$(body_of "$(last)" | grep -c -E '^(From|Date|Message-ID):')" 3 "present From/Date/Message-ID are kept, not doubled"
is "$(sed -n 's/^sender //p' "$(last)")" "r@example.org" "-r is -f"
printf 'x\n' | inject -Z b@example.test
is "$(rc)" 64 "an unknown option exits 64"
like "$(cat err)" "unknown option -Z" "and says which"
printf 'x\n' | inject
is "$(rc)" 64 "no recipient exits 64"
n=$(md)
printf 'Subject: ok\nthis is not a header\n\nbody\n' | inject b@example.test
is "$(rc)" 65 "a malformed header section exits 65"
like "$(cat err)" "malformed header: line 2: not a header field" "with a clear message"
printf ' folded first\n\nbody\n' | inject b@example.test
is "$(rc)" 65 "a header starting with a continuation exits 65"
is "$(md)" "$n" "refused messages leave nothing in the maildrop"
printf 'just a body line\n' | inject b@example.test
is "$(rc)" 0 "a message with no header at all is accepted (all body)"
printf 'x\n' | inject nobody@example.net
is "$(rc)" 67 "an unknown recipient in a routed domain exits 67"
like "$(cat err)" "550 5.1.1 <nobody@example.net>: User unknown" "naming the recipient"
inject -bv joe@example.test nobody@example.net
is "$(rc):$(cat out)" "67:joe@example.test: deliver: joe to local:joe
nobody@example.net: refused: 550 5.1.1 <nobody@example.net>: User unknown" "-bv shows the routes"

# --- -bs -----------------------------------------------------------------
if command -v swaks >/dev/null; then
	n=$(md)
	printf 'Subject: bs\r\n\r\nhello\r\n' >bsmsg
	swaks --pipe "$T_TMP/sendmail -C $T_TMP/pm.cdb -bs" -f a@example.org -t b@example.test,nobody@example.net --data @bsmsg >out 2>&1
	is "$(grep -E '^<' out | sed 's/^<.. //; s/queued as [0-9A-F]*/queued as ID/' | grep -v '^250-')" "220 mail.example.test ESMTP Postmaster
250 CHUNKING
250 2.1.0 Ok
250 2.1.5 Ok
550 5.1.1 <nobody@example.net>: User unknown
354 End data with <CR><LF>.<CR><LF>
250 2.0.0 Ok: queued as ID
221 2.0.0 mail.example.test Bye" "-bs: the SMTP dialogue, exact replies"
	is "$(md)" $((n + 1)) "-bs dropped one message"
	is "$(sed -n 's/^sender //p' "$(last)")" "a@example.org" "-bs: MAIL FROM is the sender"
else
	skip "swaks not installed"; skip "swaks not installed"; skip "swaks not installed"
fi

# -bs takes its limits from the configuration: [core] max-hops (2 here)
sed 's/^hostname = .*/&\nmax-hops = 2/' pm.cf >hops.cf && "$CFC" -c hops.cf -o hops.cdb
if command -v swaks >/dev/null; then
	n=$(md)
	printf 'Received: by a\r\nReceived: by b\r\nReceived: by c\r\nSubject: loop\r\n\r\nx\r\n' >hopsmsg
	swaks --pipe "$T_TMP/sendmail -C $T_TMP/hops.cdb -bs" -f a@example.org -t b@example.test --data @hopsmsg >out 2>&1
	is "$(grep -E '^<.. (354|554|250 2.0.0)' out | sed 's/^<.. //')" "354 End data with <CR><LF>.<CR><LF>
554 5.4.6 Error: too many hops" "-bs: three Received: over [core] max-hops = 2 is 554 5.4.6"
	is "$(md)" "$n" "and nothing dropped"
else
	skip "swaks not installed"; skip "swaks not installed"
fi

# --- pickup of everything, -bp, -q ------------------------------------------
n=$(md)
is "$("$PICKUP" pm.cdb "$SPOOL")" "rc=0 moved=$n" "pickup takes every dropped message"
inject -bp
like "$(cat out)" "^[0-9A-F]{30} +[0-9]+ .* <a@example.org>" "-bp lists the queue"
like "$(cat out)" "^[0-9A-F]{30} +[0-9]+ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z  <s@example.org>\$" "-bp: id, size, arrival (UTC), sender"
like "$(cat out)" "^    <joe> orig_to=<b@example.test> target=local:joe status=pending attempts=0 next=now\$" "with each delivery, its target and status"
like "$(cat out)" "-- $n messages in the queue\$" "and the count last"
cp out bp.out
"$PM_BIN/postmaster-queue" -C pm.cdb --list >out 2>err
is "$?:$(cat err)" "0:" "postmaster-queue --list exits 0, silent on stderr"
is "$(cat out)" "$(cat bp.out)" "postmaster-queue --list is the same listing as -bp"
ln -s sendmail mailq
"$T_TMP/mailq" -C "$T_TMP/pm.cdb" >out 2>err
is "$?:$(cat err)" "0:" "mailq (a link to inject) exits 0, silent on stderr"
is "$(cat out)" "$(cat bp.out)" "mailq lists the queue as -bp does"
ln -s sendmail newaliases
"$T_TMP/newaliases" >out 2>err
is "$?:$(cat out)" "0:" "newaliases exits 0 (nothing to rebuild)"
is "$(cat err)" "newaliases: aliases are routes in postmaster.cf; run postmaster-cfcompile after editing it (nothing to do)" "and says where aliases live"
inject -bi
is "$(rc)" 0 "-bi is newaliases"
inject -q
is "$(rc)" 0 "-q nudges the runner"

# --- a forged maildrop file is re-validated --------------------------------
printf 'POSTMASTER-SPOOL 1\nid 0000\n' >"$SPOOL/maildrop/m.06B0C38BFB7FFC0F9DEAEA8B36B7AB"
chmod 444 "$SPOOL/maildrop/m.06B0C38BFB7FFC0F9DEAEA8B36B7AB"
is "$("$PICKUP" pm.cdb "$SPOOL" 2>err)" "rc=0 moved=0" "a malformed maildrop file is not queued"
like "$(cat err)" "malformed queue id|unexpected|removed" "it is logged and removed"
is "$(md)" 0 "and gone"

# --- missing maildrop --------------------------------------------------------
mv "$SPOOL/maildrop" "$SPOOL/md.off"
printf 'x\n' | inject b@example.test
is "$(rc)" 75 "no maildrop directory: exit 75"
like "$(cat err)" "maildrop directory .* is missing or unusable" "with a clear message"
mv "$SPOOL/md.off" "$SPOOL/maildrop"

# --- disk full -----------------------------------------------------------------
if unshare -m true 2>/dev/null; then
	mkdir full
	sed "s|$SPOOL|$T_TMP/full|" pm.cf >full.cf && "$CFC" -c full.cf -o full.cdb
	{ head -c 300000 /dev/zero | tr '\0' x; echo; } | fold -w 70 >big
	cp full.cdb "$T_TMP/etc/postmaster.cdb"
	t_private_etc "mount -t tmpfs -o size=64k tmpfs '$T_TMP/full' &&
	    install -d -m 1730 -g postdrop '$T_TMP/full/maildrop' &&
	    { printf 'Subject: big\n\n'; cat big; } | su -s /bin/sh $U -c \"$SANENV $T_TMP/sendmail b@example.test\" 2>err;
	    echo \$? >rc; ls -A '$T_TMP/full/maildrop' | wc -l >left"
	is "$(cat rc)" 75 "disk full: exit 75"
	like "$(cat err)" "No space left on device" "saying why"
	is "$(cat left)" 0 "and nothing half-written in the maildrop"
else
	skip "unshare -m not permitted"; skip "unshare -m not permitted"; skip "unshare -m not permitted"
fi

done_testing
