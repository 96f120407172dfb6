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
	--core-tls-socket="$var/tlsd.socket" \
	--lmtpd-maildir="$var/mail/%d/%u/Maildir" \
	--pipe-archive-exec="/bin/sh -c \"cat >> $var/mail/archive.txt\""

pids=""
stop() {
	trap - INT TERM EXIT
	echo "postmaster: stopping (the queue runner finishes what is in flight)"
	for p in $pids; do kill "$p" 2>/dev/null || :; done
	wait 2>/dev/null
	echo "postmaster: stopped"
}
trap stop INT TERM EXIT

# -1: tcpserver prints the port once it listens; it exits with its reason
# (e.g. "unable to bind: address already used") when it cannot. One at a
# time: a process is stopped only once it runs (a TERM between fork and
# exec would meet the shell's trap and be lost).
alive() { # a zombie is not alive (the shell may not have reaped it yet)
	kill -0 "$1" 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"
}
listen() { # listen PORT INSTANCE
	rm -f "$var/listen.$1"
	tcpserver -1 -R -H -l 0 127.0.0.1 "$1" \
		"$B/postmaster-smtpd" -C "$var/postmaster.cdb" "$2" >"$var/listen.$1" &
	pid=$! i=0
	until [ -s "$var/listen.$1" ]; do
		if ! alive "$pid" || [ $i -ge 300 ]; then
			echo "postmaster: cannot listen on 127.0.0.1:$1 (tcpserver's reason is above); not starting" >&2
			kill "$pid" 2>/dev/null || :
			exit 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	pids="$pids $pid"
}
# The TLS service first, so a STARTTLS (when an instance sets tls) finds
# it; smtpd spawns a postmaster-tlsd per session while it is not up.
"$B/postmaster-tlsd" -s -C "$var/postmaster.cdb" &
pids="$pids $!"
listen 2525 mx.example.test
listen 2587 submission
"$B/postmaster-queue" -C "$var/postmaster.cdb" &
pids="$pids $!"

cat <<MSG
postmaster: running on loopback (Ctrl-C stops everything)
  MX          127.0.0.1:2525   [smtpd "mx.example.test"]
  submission  127.0.0.1:2587   [smtpd "submission"] (local names allowed)
  queue       $var/spool       (postmaster-queue, local mail via postmaster-lmtpd)
  TLS         $var/tlsd.socket (postmaster-tlsd -s, for instances that set tls)

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
