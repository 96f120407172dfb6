#!/bin/sh
# postmaster-setup: what `make install` (or a package's postinst) needs
# done as root so that Postmaster runs: the users and groups, a first
# configuration, the spool with maildrop/ and the public FIFO, setgid
# postmaster-inject. Idempotent: run it again after any upgrade. See
# postmaster-setup(8).
set -eu
SBINDIR=@SBINDIR@
cf=/etc/postmaster.cf
cdb=/etc/postmaster.cdb

usage() {
	echo "usage: postmaster-setup [-c CF] [-C CDB]" >&2
	exit 64
}
while [ $# -gt 0 ]; do
	case $1 in
	-c) [ $# -ge 2 ] || usage; cf=$2; shift 2 ;;
	-C) [ $# -ge 2 ] || usage; cdb=$2; shift 2 ;;
	-h|--help) echo "usage: postmaster-setup [-c CF] [-C CDB]"; exit 0 ;;
	*) usage ;;
	esac
done
say() { echo "postmaster-setup: $*"; }
fatal() { echo "postmaster-setup: fatal: $*" >&2; exit "${2:-1}"; }
[ "$(id -u)" -eq 0 ] || fatal "must run as root" 77

# A first configuration: local mail only, to ~/Maildir of system users.
if [ ! -e "$cf" ] && [ ! -e "$cdb" ]; then
	cat >"$cf" <<'EOF'
# Written by postmaster-setup: local mail only (sendmail, cron), delivered
# to ~/Maildir of system users. See postmaster.cf(5) for the language and
# the sample configuration in Postmaster's sources (etc/postmaster.cf).
[core]
# hostname = mail.example.org

[route]
# root's mail belongs to a person: root joe
EOF
	chmod 644 "$cf"
	say "wrote $cf"
fi
if [ ! -e "$cdb" ]; then
	"$SBINDIR/postmaster-cfcompile" -c "$cf" -o "$cdb" ||
		fatal "$cf does not compile; fix it and run postmaster-setup again" 78
	say "compiled $cf into $cdb"
fi

# [core] user-id, group-id and spool-directory as the file sets them.
core() { # core KEY DEFAULT
	v=$("$SBINDIR/postmaster-cfcompile" -c "$cf" --dump |
		sed -n "s/^core\\.\"\"\\.$1 = //p" | tail -1)
	v=${v#\"}
	v=${v%\"}
	echo "${v:-$2}"
}
if [ -e "$cf" ]; then
	user=$(core user-id postmaster)
	group=$(core group-id postmaster)
	spool=$(core spool-directory /var/spool/postmaster)
else
	user=postmaster group=postmaster spool=/var/spool/postmaster
fi

if ! getent group "$group" >/dev/null; then
	groupadd --system "$group"
	say "added group $group"
fi
if ! getent group postdrop >/dev/null; then
	groupadd --system postdrop
	say "added group postdrop"
fi
if ! getent passwd "$user" >/dev/null; then
	useradd --system --gid "$group" --home-dir "$spool" --no-create-home \
		--shell /usr/sbin/nologin --comment "Postmaster MTA" "$user"
	say "added user $user"
fi

# The layout of spool(5); modes are set every time (upgrades, typos).
install -d -o "$user" -g "$group" -m 0755 "$spool"
for d in tmp queue state corrupt; do
	install -d -o "$user" -g "$group" -m 0700 "$spool/$d"
done
install -d -o "$user" -g postdrop -m 1730 "$spool/maildrop"
fifo() { # fifo NAME GROUP MODE
	if [ -e "$spool/$1" ] && [ ! -p "$spool/$1" ]; then
		fatal "$spool/$1 exists and is not a FIFO" 73
	fi
	[ -p "$spool/$1" ] || mkfifo "$spool/$1"
	chown "$user:$2" "$spool/$1"
	chmod "$3" "$spool/$1"
}
fifo nudge "$group" 0600
fifo pickup postdrop 0620

# Group postdrop may only create files in maildrop/: inject is its one
# program (doc/THREATS.md).
if [ -f "$SBINDIR/postmaster-inject" ]; then
	chown root:postdrop "$SBINDIR/postmaster-inject"
	chmod 2755 "$SBINDIR/postmaster-inject"
fi
say "ready: spool $spool, user $user, group $group, inject setgid postdrop"
