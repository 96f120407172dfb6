#!/bin/sh
# `make run` end to end: start it in the background, send a message to the
# alias list with swaks, find it in both Maildirs under ./var, stop it.
. "$(dirname "$0")/lib.sh"
command -v swaks >/dev/null || skip_all "swaks missing"
cd "$PM_TOP" || exit 1
command -v tcpserver >/dev/null || skip_all "tcpserver missing"
alive() { kill -0 "$1" 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"; }

# `make run` as a user types it: the suite's own make passes BUILD (and
# more) on its command line, which make exports; unset, or the ASan pass
# would build a plain tree into its build/asan for this test.

# --- a port that is taken (2587): make run stops and says why ----------------
tcpserver -1 127.0.0.1 2587 true >"$T_TMP/busy.port" 2>&1 &
busy=$!
i=0
while [ ! -s "$T_TMP/busy.port" ] && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
is "$(cat "$T_TMP/busy.port")" 2587 "something else listens on 127.0.0.1:2587"
env -u MAKEFLAGS -u MAKELEVEL -u BUILD -u PROD_BUILD -u SAN -u WERROR --default-signal=INT PM_VAR="$T_TMP/busy" setsid make -s run >"$T_TMP/busy.log" 2>&1 &
pid=$!
i=0
while alive "$pid" && ! grep -q "running on loopback" "$T_TMP/busy.log" && [ $i -lt 600 ]; do
	sleep 0.2; i=$((i + 1))
done
grep -q "running on loopback" "$T_TMP/busy.log" && kill -INT -"$pid" 2>/dev/null
wait "$pid"
ok $((! $?)) "make run exits non-zero"
ok "$(grep -c "running on loopback" "$T_TMP/busy.log")" "and never says it is running"
like "$(cat "$T_TMP/busy.log")" "tcpserver: fatal: unable to bind: address already used" "the reason is shown"
like "$(cat "$T_TMP/busy.log")" "^postmaster: cannot listen on 127.0.0.1:2587 \(tcpserver's reason is above\); not starting\$" "with which listener failed"
i=0
while ss -ltn 2>/dev/null | grep -q '127.0.0.1:2525 ' && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ss -ltn 2>/dev/null | grep -q '127.0.0.1:2525 '
ok $((! $?)) "the listener that did start (2525) is stopped again"
kill "$busy"
wait "$busy" 2>/dev/null

var="$T_TMP/var"
# setsid: Ctrl-C is a SIGINT to the whole group, as in a terminal
# --default-signal: a background job of a script starts with SIGINT
# ignored, and a shell cannot trap what it inherited ignored; a terminal's
# Ctrl-C would find it at its default.
env -u MAKEFLAGS -u MAKELEVEL -u BUILD -u PROD_BUILD -u SAN -u WERROR --default-signal=INT PM_VAR="$var" setsid make -s run >"$T_TMP/run.log" 2>&1 &
pid=$!
# Stop everything make run started, however this test ends.
trap 'kill -INT -"$pid" 2>/dev/null; sleep 0.3; kill -KILL -"$pid" 2>/dev/null; t_cleanup' EXIT
i=0
while ! grep -q "running on loopback" "$T_TMP/run.log" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.2; i=$((i + 1))
done
like "$(cat "$T_TMP/run.log")" "swaks --server 127.0.0.1:2525 --from you@example.net --to team@example.test" \
	"make run prints a swaks command to try"
swaks --server 127.0.0.1:2525 --from you@example.net --to team@example.test \
	--header "Subject: make run test" >"$T_TMP/swaks.log" 2>&1
ok $? "swaks delivers to the MX on 127.0.0.1:2525"
i=0
while [ $i -lt 100 ]; do
	a=$(ls "$var"/mail/example.test/alice/Maildir/new 2>/dev/null | wc -l)
	b=$(ls "$var"/mail/example.test/bob/Maildir/new 2>/dev/null | wc -l)
	[ "$a" -ge 1 ] && [ "$b" -ge 1 ] && break
	sleep 0.2; i=$((i + 1))
done
is "$a:$b" "1:1" "the alias list delivered one copy to each Maildir"
grep -q "^Subject: make run test" "$var"/mail/example.test/alice/Maildir/new/* 2>/dev/null
ok $? "the message is in alice's Maildir"
# postmaster (RFC 5321 4.5.1), as an address and as the bare name, lands
# in a Maildir of the sample
swaks --server 127.0.0.1:2525 --from you@example.net --to postmaster@example.test \
	--header "Subject: to postmaster" >/dev/null 2>&1
swaks --server 127.0.0.1:2525 --from you@example.net --to postmaster \
	--header "Subject: to the bare name" >/dev/null 2>&1
pm="$var/mail/example.test/postmaster/Maildir/new"
i=0
while [ "$(ls "$pm" 2>/dev/null | wc -l)" -lt 2 ] && [ $i -lt 150 ]; do
	sleep 0.2; i=$((i + 1))
done
is "$(cat "$pm"/* 2>/dev/null | grep -c '^Subject: to ')" 2 \
	"mail to postmaster@example.test and to postmaster reaches postmaster's Maildir"
# no catch-all for the old domain: an unknown local part is refused at
# RCPT, not accepted and bounced later (backscatter)
out=$(swaks --server 127.0.0.1:2525 --from you@example.net --to nosuch@old.example.test 2>&1)
like "$out" "<\*\* +550 5\.1\.1 <nosuch@old\.example\.test>: .*[Uu]ser unknown" \
	"an unknown user at old.example.test gets 550 5.1.1 at RCPT"
like "$(printf '%s\n' "$out" | grep -A1 ' -> RCPT TO')" "<\*\* +550" "  in reply to RCPT"
# The submission port takes local names (local-rcpt-to = yes): root is
# routed to postmaster, then postmaster@example.test, by [route].
swaks --server 127.0.0.1:2587 --from you@example.net --to root \
	--header "Subject: make run local name" >"$T_TMP/swaks2.log" 2>&1
ok $? "swaks delivers to the local name root on the submission port" ||
	grep -E '^ *<~?\*\* ' "$T_TMP/swaks2.log" | sed 's/^/#   /'
i=0
while ! grep -qs "^Subject: make run local name" "$var"/mail/example.test/postmaster/Maildir/new/* &&
	[ $i -lt 100 ]; do
	sleep 0.2; i=$((i + 1))
done
grep -qs "^Subject: make run local name" "$var"/mail/example.test/postmaster/Maildir/new/*
ok $? "root's message is in postmaster's Maildir"
swaks --server 127.0.0.1:2525 --from you@example.net --to partner@example.test >/dev/null 2>&1
sleep 1
out=$(build/postmaster-queue -C "$var"/postmaster.cdb --list 2>&1)
like "$out" "partner@example.test" "the relay that is down shows in the queue listing"
kill -INT -"$pid" 2>/dev/null
wait "$pid" 2>/dev/null
# make may be gone before run.sh has finished stopping what it started
i=0
while [ $i -lt 250 ]; do
	grep -q "postmaster: stopping" "$T_TMP/run.log" &&
		! ss -ltn 2>/dev/null | grep -qE '127.0.0.1:(2525|2587) ' && break
	sleep 0.1; i=$((i + 1))
done
if ss -ltn 2>/dev/null | grep -qE '127.0.0.1:(2525|2587) '; then r=1; else r=0; fi
ok $r "Ctrl-C stopped the listeners"
grep -q "postmaster: stopping" "$T_TMP/run.log"
ok $? "and said so" || tail -5 "$T_TMP/run.log" | sed 's/^/#   /'

done_testing
