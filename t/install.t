#!/bin/sh
# `make install` leaves a working system. Everything runs in a private
# mount namespace whose /etc is an overlay (t_private_etc), so the users,
# groups and /etc/postmaster.cf it makes vanish with the test. A DESTDIR
# install makes no users; a root install into a temporary PREFIX runs
# postmaster-setup (then twice more: nothing changes), after which an
# ordinary user's sendmail works and the modes are those of spool(5).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
cd "$T_TMP" || exit 1
mkdir -p etc
t_private_etc true || skip_all "cannot mount an overlay on /etc"
# make install takes the programs of `make all`, never a test build's
# (doc/HACKING.md): PM_PROD_BIN from make test, else PM_BIN less /test.
PROD=${PM_PROD_BIN:-${PM_BIN%/test}}
MAKE="env -u MAKEFLAGS -u MAKELEVEL make -s -C $PM_TOP BUILD=$PROD"
P=$T_TMP/prefix
SPOOL=$T_TMP/spool

# --- a packager's install ------------------------------------------------------
had=$(getent passwd postmaster)
t_private_etc "$MAKE install DESTDIR=$T_TMP/dest PREFIX=/usr INSTALL_SENDMAIL=yes >dest.out 2>&1; echo \$? >rc; getent passwd postmaster >pw; true"
is "$(cat rc)" 0 "make install DESTDIR=... exits 0"
is "$(cat pw)" "$had" "and creates no user"
like "$(cat dest.out)" "DESTDIR install: no users, spool or setgid bit; run /usr/sbin/postmaster-setup as root on the target" "it says what a postinst must run"
is "$(stat -c '%a' dest/usr/sbin/postmaster-inject)" 755 "inject is not setgid yet"
is "$(sed -n 's/^SBINDIR=//p' dest/usr/sbin/postmaster-setup)" /usr/sbin "postmaster-setup knows the target's sbin"
is "$(readlink dest/usr/sbin/sendmail):$(readlink dest/usr/bin/mailq):$(readlink dest/usr/bin/newaliases)" "/usr/sbin/postmaster-inject:/usr/sbin/postmaster-inject:/usr/sbin/postmaster-inject" "sendmail, mailq and newaliases link to the target's inject"
is "$(sed -n 's/^ExecStart=//p' dest/usr/lib/systemd/system/postmaster-queue.service)" "/usr/sbin/postmaster-queue -C /etc/postmaster.cdb" "units name the target's sbin"

# --- root, a temporary PREFIX ----------------------------------------------------
# The configuration an administrator wrote first (spool and Maildirs in
# the test's directory); postmaster-setup compiles it.
t_local_cf >etc/postmaster.cf
t_private_etc "$MAKE install PREFIX=$P INSTALL_SENDMAIL=yes >install.out 2>&1; echo \$? >rc"
is "$(cat rc)" 0 "make install PREFIX=... as root exits 0" || sed 's/^/# /' install.out
like "$(cat install.out)" "postmaster-setup: added user postmaster" "it ran postmaster-setup, which added the user"
like "$(cat install.out)" "postmaster-setup: compiled /etc/postmaster.cf into /etc/postmaster.cdb" "and compiled the configuration"
state() { # users, groups, modes: what setup is responsible for
	t_private_etc "getent passwd postmaster | cut -d: -f1,6,7; getent group postmaster | cut -d: -f1; getent group postdrop | cut -d: -f1;
		cd '$SPOOL' && stat -c '%n %U:%G %a %F' . tmp queue state corrupt maildrop nudge pickup '$P/sbin/postmaster-inject'"
}
state >state1
is "$(cat state1)" "postmaster:$SPOOL:/usr/sbin/nologin
postmaster
postdrop
. postmaster:postmaster 755 directory
tmp postmaster:postmaster 700 directory
queue postmaster:postmaster 700 directory
state postmaster:postmaster 700 directory
corrupt postmaster:postmaster 700 directory
maildrop postmaster:postdrop 1730 directory
nudge postmaster:postmaster 600 fifo
pickup postmaster:postdrop 620 fifo
$P/sbin/postmaster-inject root:postdrop 2755 regular file" "users, groups, spool and inject as doc/spool.5 and THREATS.md say"
uid=$(t_private_etc "id -u postmaster")
ok $((${uid:-99999} >= 1000)) "postmaster is a system user (uid $uid)"
cp etc/passwd passwd1; cp etc/group group1
t_private_etc "$P/sbin/postmaster-setup >setup2.out 2>&1 && $P/sbin/postmaster-setup >setup3.out 2>&1; echo \$? >rc"
is "$(cat rc)" 0 "postmaster-setup runs twice more"
is "$(state)" "$(cat state1)" "and changes nothing"
cmp -s etc/passwd passwd1 && cmp -s etc/group group1
ok $? "no user or group added twice"
is "$(grep -c 'added\|compiled\|wrote' setup2.out setup3.out | tr '\n' ' ')" "setup2.out:0 setup3.out:0 " "nothing to add the second time"

# --- an ordinary user's sendmail -------------------------------------------------------
U=pminst$$
t_private_etc "useradd -M -d /nonexistent -s /bin/sh $U"
ok $? "an ordinary user $U (in the private /etc only)"
SANENV="ASAN_OPTIONS='${ASAN_OPTIONS:-detect_leaks=0}' UBSAN_OPTIONS='${UBSAN_OPTIONS:-}'"
t_private_etc "su -s /bin/sh $U -c \"cd /; umask 077; printf 'Subject: hi\\n\\nhello\\n' | $SANENV $P/sbin/sendmail joe@example.test\"" >out 2>err
is "$?:$(cat out err)" "0:" "sendmail as $U: exit 0, silent"
is "$(ls "$SPOOL/maildrop" | wc -l)" 1 "the message is in maildrop/"
is "$(t_private_etc "stat -c '%U %a' '$SPOOL'/maildrop/m.*")" "$U 444" "owned by $U, readable by pickup"
t_private_etc "su -s /bin/sh $U -c \"cd /; $SANENV $P/bin/mailq\"" >out 2>err
is "$?" 77 "mailq as $U: 77, the queue is not theirs"
t_private_etc "cd /; $SANENV $P/bin/mailq" >out 2>err
is "$?:$(cat out)" "0:Mail queue is empty" "mailq as root"

done_testing
