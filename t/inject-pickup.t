#!/bin/sh
# Local submission by an ordinary user with umask 077, through a setgid
# postdrop inject, reaches a Maildir through the running queue runner
# (the postmaster user is nobody) long before its 5-minute rescan: the
# file is readable whatever the umask, and the public FIFO SPOOL/pickup
# wakes the runner. Then 12,000 unreadable and a few hostile maildrop
# entries (more than pickup's batch of 10,000) do not keep a good message
# out: they go to corrupt/ with one log line each, once.
. "$(dirname "$0")/lib.sh"
INJ="$PM_BIN/postmaster-inject"
CFC="$PM_BIN/postmaster-cfcompile"
Q="$PM_BIN/postmaster-queue"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (creates a user)"
command -v python3 >/dev/null || skip_all "python3 missing"
cd "$T_TMP" || exit 1

U=pmpick$$
PU=nobody
PG=$(id -gn nobody)
qpid=
trap '[ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid"; t_cleanup' EXIT
t_add_user "$U" || skip_all "useradd failed"
UID_U=$(id -u "$U")
mkdir -p "$T_TMP/etc"
t_private_etc true || skip_all "cannot mount an overlay on /etc"

SPOOL=$T_TMP/spool
t_local_cf "user-id = \"$PU\"
group-id = \"$PG\"" >q.cf
"$CFC" -c q.cf -o q.cdb
ok $? "config compiles"
cp q.cdb "$T_TMP/etc/postmaster.cdb"
# What postmaster-setup makes: the spool, maildrop/ and the public FIFO.
install -d -m 0755 -o "$PU" -g "$PG" "$SPOOL" mail
install -d -m 1730 -o "$PU" -g postdrop "$SPOOL/maildrop"
mkfifo -m 0620 "$SPOOL/pickup" && chown "$PU:postdrop" "$SPOOL/pickup"
cp "$INJ" sendmail && chgrp postdrop sendmail && chmod 2755 sendmail

"$Q" -C q.cdb 2>queue.log &
qpid=$!
wait_for() { # wait_for SECONDS SHELL-CONDITION
	i=0
	while ! eval "$2" && [ "$i" -lt $(($1 * 10)) ]; do
		sleep 0.1; i=$((i + 1))
	done
	eval "$2"
}
wait_for 60 'grep -q "started:" queue.log'
ok $? "the runner started (as $PU)" || sed "s/^/# /" queue.log

SANENV="ASAN_OPTIONS='${ASAN_OPTIONS:-detect_leaks=0}' UBSAN_OPTIONS='${UBSAN_OPTIONS:-}'"
send() { # send SUBJECT: as $U, umask 077, /etc/postmaster.cdb = q.cdb
	t_private_etc "su -s /bin/sh '$U' -c \"cd /; umask 077; printf 'Subject: $1\\n\\nhello\\n' | $SANENV '$T_TMP/sendmail' joe@example.test\""
}
new() { ls "$T_TMP/mail/joe/Maildir/new" 2>/dev/null | wc -l; }

send first >out 2>err
is "$?:$(cat out err)" "0:" "sendmail as $U under umask 077: exit 0, silent"
# The runner rescans every 300 s; 100 s is well before that.
wait_for 100 '[ "$(new)" -ge 1 ]'
ok $? "delivered to the Maildir without waiting for the rescan"
like "$(cat "$T_TMP"/mail/joe/Maildir/new/* 2>/dev/null | tr -d '\r')" "from userid $UID_U\)" "the Received field names the user"
ok "$(grep -c 'will retry' queue.log)" "no retries logged"

# --- bad entries before a good one ------------------------------------------
python3 - "$SPOOL/maildrop" "$UID_U" <<'EOF'
import os, random, sys, time
d, uid = sys.argv[1], int(sys.argv[2])
t = int(time.time()) - 60
for k in range(12000):
    n = 'm.%09X%05X%016X' % (t, k, random.getrandbits(64))
    fd = os.open(os.path.join(d, n), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    os.write(fd, b'not for your eyes\n')
    os.fchown(fd, uid, -1)
    os.fchmod(fd, 0o400)
    os.close(fd)
os.symlink('/etc/passwd', os.path.join(d, 'm.%09X%05X%016X' % (t, 99999, 1)))
os.mkfifo(os.path.join(d, 'm.%09X%05X%016X' % (t, 99999, 2)))
os.mkdir(os.path.join(d, 'junk'))
os.chown(os.path.join(d, 'junk'), uid, -1)
open(os.path.join(d, 'x\x01y'), 'w').close()
EOF
ok $? "12,000 unreadable files, a symlink, a FIFO, a user's directory and a bad name in maildrop/"
send second >out 2>err
is "$?:$(cat out err)" "0:" "a second message"
wait_for 100 '[ "$(new)" -ge 2 ]'
ok $? "delivered although 12,005 bad entries were there first"
wait_for 10 '[ "$(ls -A "$SPOOL/maildrop" | wc -l)" -eq 0 ]'
ok $? "maildrop/ is empty" || ls -A "$SPOOL/maildrop" | sed "s/^/# left: /"
is "$(ls -A "$SPOOL/corrupt" | wc -l)" 12003 "every bad entry is in corrupt/"
is "$(stat -c '%U %a' "$SPOOL/corrupt")" "$PU 700" "corrupt/ is the postmaster user's, 0700"
is "$(grep -c ': moved to corrupt/' queue.log)" 12003 "one log line each"
is "$(grep -c "maildrop/junk uid=$UID_U: unexpected directory: removed\$" queue.log)" 1 "the directory (which nobody may move) is removed, with one line"
f=$(ls "$SPOOL/corrupt" | grep '^m\.' | head -1)
like "$(grep "maildrop/$f " queue.log)" "error: pickup: maildrop/$f uid=$UID_U from=<>: (unreadable|a symbolic link|not a regular file): moved to corrupt/$f\$" "the line names the file, its owner, why and where it went"
like "$(grep 'unexpected entry' queue.log | tr '\n' ' ')" 'maildrop/x\\x01y uid=0 from=<>: unexpected entry: moved to corrupt/x\.[0-9A-F]{30}' "a strange name is escaped and gets a fresh one"

send third >out 2>err
wait_for 100 '[ "$(new)" -ge 3 ]'
ok $? "a third message is delivered"
is "$(grep -c ': moved to corrupt/' queue.log)" 12003 "and nothing is logged again"
ok "$(grep -c 'will retry' queue.log)" "never a retry"

kill "$qpid"
wait "$qpid"
qpid=
done_testing
