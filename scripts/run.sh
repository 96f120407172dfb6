#!/bin/sh
# `make run`: Postmaster on its embedded default, in the foreground, on
# loopback only. Everything lives under ./var; Ctrl-C stops all of it.
set -eu
top=$(pwd)
B=${BUILD:-build}
var=${PM_VAR:-$top/var}  # tests point it elsewhere
mkdir -p "$var/spool" "$var/mail"

if [ "$(id -u)" -eq 0 ]; then
	user=nobody group=nogroup
	chown "$user:$group" "$var/spool" "$var/mail"
else
	user=$(id -un) group=$(id -gn)
fi

"$B/postmaster-cfcompile" -c etc/postmaster.cf -o "$var/postmaster.cdb" \
	--core-spool-directory="$var/spool" \
	--core-user-id="$user" --core-group-id="$group" \
	--lmtpd-maildir="$var/mail/%d/%u/Maildir" \
	--pipe-archive-exec="/bin/sh -c \"cat >> $var/mail/archive.txt\""

pids=""
stop() {
	trap - INT TERM EXIT
	echo "postmaster: stopping (the queue runner finishes what is in flight)"
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill $pids 2>/dev/null
	wait 2>/dev/null
	echo "postmaster: stopped"
}
trap stop INT TERM EXIT

tcpserver -R -H -l 0 127.0.0.1 2525 \
	"$B/postmaster-smtpd" -C "$var/postmaster.cdb" mx.example.test &
pids="$pids $!"
tcpserver -R -H -l 0 127.0.0.1 2587 \
	"$B/postmaster-smtpd" -C "$var/postmaster.cdb" submission &
pids="$pids $!"
"$B/postmaster-queue" -C "$var/postmaster.cdb" &
pids="$pids $!"

cat <<MSG
postmaster: running on loopback (Ctrl-C stops everything)
  MX          127.0.0.1:2525   [smtpd "mx.example.test"]
  submission  127.0.0.1:2587   [smtpd "submission"] (local names allowed)
  queue       $var/spool       (postmaster-queue, local mail via postmaster-lmtpd)

Try:
  swaks --server 127.0.0.1:2525 --from you@example.net --to team@example.test
Mail lands in:
  $var/mail/example.test/alice/Maildir/new/
  $var/mail/example.test/bob/Maildir/new/
See the queue (the partner@example.test relay is down on purpose):
  swaks --server 127.0.0.1:2525 --to partner@example.test
  $B/postmaster-queue -C $var/postmaster.cdb --list
MSG
wait
