#!/bin/sh
# postmaster-cfcompile end to end: the seed example, dump round trip,
# diagnostics, flags, atomic replace, --route and --units.
. "$(dirname "$0")/lib.sh"
CC="$PM_BIN/postmaster-cfcompile"
cd "$T_TMP" || exit 1

printf 'joe@example.org joe\njoe.doe@example.org joe\njane@example.org jane\n' >postmaster.rt
sed "s|/etc/postmaster.rt|$T_TMP/postmaster.rt|" "$PM_TOP/t/data/seed.cf" >seed.cf

"$CC" -c seed.cf -o seed.cdb 2>err
ok $? "the seed's example compiles"
is "$(cat err)" "" "no diagnostics for the seed's example"
"$CC" -c seed.cf --dump >dump.out
ok $? "--dump exits 0"
for line in \
	'smtpd."mx.example.net".name = mx.example.net' \
	'smtpd."mx.example.net".listen-port = 25' \
	'smtpd."mx.example.net".routing-table = extern' \
	'route."".postmaster = joe' \
	'route."".postmaster@acme.example.net = postmaster' \
	'route."".postmaster@acme.example.org = postmaster' \
	"route.\"\".file = \"$T_TMP/postmaster.rt\"" \
	'route."extern".@example.com = @example.org' \
	'route."extern".@example.org = mx.example.net'; do
	grep -qxF "$line" dump.out
	ok $? "dump has: $line"
done
# The seed lines appear in the seed's order.
got=$(grep -E '^(smtpd."mx.example.net"|route\.)' dump.out | grep -v '^#' | head -9 | tr '\n' '|')
like "$got" '^smtpd."mx.example.net".name.*listen-port = 25\|.*routing-table = extern\|route."".postmaster = joe\|' "dump keeps file order"
is "$(sed -n 10p dump.out)" 'pipe."procmail".exec = "/usr/bin/procmail" "-f" "${MAIL_FROM}" "-d" "${RCPT_TO}"' "several words, quoted as written"

"$CC" -c dump.out -o dump.cdb
ok $? "the dump compiles"
cmp -s seed.cdb dump.cdb
ok $? "dump then compile gives the same CDB bytes"
"$CC" -c dump.out --dump >dump2.out
cmp -s dump.out dump2.out
ok $? "dumping the dump is a fixed point"

# --- diagnostics: FILE:LINE:COL, every error, exit 65 ------------------
printf '[core]\nhostnme = x\n[smtpd "a"]\nlisten-port = 99999\nroutng-table = r\n[bogus]\n' >bad.cf
cp seed.cdb old.cdb
"$CC" -c bad.cf -o old.cdb 2>err
is $? 65 "errors exit 65"
is "$(head -4 err)" "bad.cf:2:1: unknown key 'hostnme' in [core] (did you mean 'hostname'?)
bad.cf:4:15: listen-port: port must be 1 to 65535, not '99999'
bad.cf:5:1: unknown key 'routng-table' in [smtpd] (did you mean 'routing-table'?)
bad.cf:6:1: unknown section kind 'bogus'" "all errors reported with line and column"
cmp -s seed.cdb old.cdb
ok $? "a bad config leaves the old CDB byte-identical"
ls | grep -q 'old.cdb.tmp'
ok $((! $?)) "and leaves no temporary file"

# The queue records "inject" (postmaster-inject, pickup) and "queue" (a
# bounce) as a message's instance: an [smtpd] of that name would take
# over the routing of their bounces.
printf '[smtpd "inject"]\nrouting-table = r\n[smtpd "queue"]\n[smtpd "Queue"]\n[route "r"]\n' >rsv.cf
"$CC" -c rsv.cf --check 2>err
is "$?:$(cat err)" "65:rsv.cf:1:1: [smtpd \"inject\"]: the name is reserved (the queue records it as the instance of messages from postmaster-inject)
rsv.cf:3:1: [smtpd \"queue\"]: the name is reserved (the queue records it as the instance of bounces)
postmaster-cfcompile: rsv.cf: 2 errors; nothing done" \
    "[smtpd \"inject\"] and [smtpd \"queue\"] refused (\"Queue\" is another name)"
"$CC" -c seed.cf --check --smtpd=inject 2>err
is "$?:$(cat err)" "65:command line:4:1: [smtpd \"inject\"]: the name is reserved (the queue records it as the instance of messages from postmaster-inject)
postmaster-cfcompile: seed.cf: 1 error; nothing done" \
    "also from --smtpd=inject"

printf '[smtpd "a"]\nrouting-table = nowhere\nlogger = nolog\n[core]\nlocal-mailer = procmial\n[pipe "procmail"]\nexec = /bin/cat\n' >ref.cf
"$CC" -c ref.cf --check 2>err
is $? 65 "dangling references exit 65"
is "$(cat err | head -3)" "ref.cf:2:17: routing-table 'nowhere' refers to no [route] section
ref.cf:3:10: logger 'nolog' refers to no [syslog] or [logfile] section (built in: stderr, syslog)
ref.cf:5:16: local-mailer 'procmial' refers to no [pipe] or [relay] section (built in: lmtpd)" "dangling references named"

# --- flags win over the file -----------------------------------------
"$CC" -c seed.cf --dump '--smtpd-"mx.example.net"-listen-port=2525' >f.out
grep -qxF 'smtpd."mx.example.net".listen-port = 2525' f.out
ok $? "--smtpd-\"NAME\"-KEY=VALUE sets a key"
grep -c 'smtpd."mx.example.net".listen-port' f.out >n
is "$(cat n)" 1 "the flag replaces the file's value"
"$CC" -c seed.cf --dump --smtpd-mx.example.net-listen-port=2526 | grep -qxF 'smtpd."mx.example.net".listen-port = 2526'
ok $? "the same after the shell ate the quotes"
"$CC" -c seed.cf --dump --smtpd=foo --smtpd-foo-listen-port=127.0.0.1:2525 >f.out
grep -qxF 'smtpd."foo".listen-port = 127.0.0.1:2525' f.out
ok $? "--smtpd=NAME declares a section"
"$CC" -c seed.cf --check --smtpd-foo-lisen-port=1 2>err
is "$?:$(head -1 err)" "65:command line:4:1: --smtpd-foo-lisen-port: unknown key for [smtpd] (did you mean 'listen-port'?)" "unknown flag key: did you mean"
"$CC" -c seed.cf --chek 2>err
is "$?:$(head -1 err)" "64:postmaster-cfcompile: --chek: unknown option (did you mean '--check'?)" "unknown option: did you mean"
"$CC" -c seed.cf --dump --core-hostname=mx.test | grep -qxF 'core."".hostname = mx.test'
ok $? "--KIND-KEY=VALUE sets an unnamed section's key"

# --- --route -----------------------------------------------------------
out=$("$CC" -c seed.cf --route a@example.com --smtpd mx.example.net)
is "$out" 'a@example.com
  route."extern".@example.com = @example.org
    route."extern".@example.org = mx.example.net
      => host:mx.example.net (for a@example.org)
deliver: a@example.org to host:mx.example.net' "--route shows each step"
out=$("$CC" -c seed.cf --route root@anything --smtpd localhost | tail -1)
is "$out" "deliver: joe to local:joe" "user@ route, then [route] last"
"$CC" -c seed.cf --route x@gmail.com --smtpd mx.example.net >out
is "$?:$(tail -1 out)" "67:refused: 554 5.7.1 <x@gmail.com>: relaying denied" "foreign domain is relaying"
"$CC" -c seed.cf --route nobody@acme.example.net --smtpd mx.example.net >out
is "$?:$(tail -1 out)" "67:refused: 550 5.1.1 <nobody@acme.example.net>: user unknown" "unknown user at our domain"
"$CC" -c seed.cf --route postmaster@mx.example.net --smtpd mx.example.net | tail -1 >out
is "$(cat out)" "deliver: joe to local:joe" "postmaster@ our own name always works"

# --- atomic replace under concurrent readers ----------------------------
# A reader (postmaster-smtpd opening the CDB, as every connection does)
# runs over and over while the CDB is recompiled in a loop: it must always
# find a whole, valid file.
mkdir spool && chown nobody:nogroup spool
run() { "$CC" -c seed.cf -o live.cdb --core-user-id=nobody --core-group-id=nogroup \
	--core-spool-directory="$T_TMP/spool"; }
run
( i=0; while [ $i -lt 40 ]; do run; i=$((i+1)); done ) &
w=$!
j=0; bad=0
while [ $j -lt 150 ]; do
	g=$("$PM_BIN/postmaster-smtpd" -C live.cdb mx.example.net </dev/null 2>/dev/null | tr -d '\r')
	case $g in "220 mx.example.net ESMTP Postmaster") ;; *) bad=$((bad+1)) ;; esac
	j=$((j+1))
done
wait $w
is "$bad" 0 "150 readers during 40 replacements all saw a valid CDB"
ls live.cdb.tmp* >/dev/null 2>&1
ok $((! $?)) "no temporary file is left behind"

# --- format version ------------------------------------------------------
if command -v cdb >/dev/null; then
	printf '+8,16:\000version->postmaster-cdb 9\n\n' | cdb -c other.cdb
	"$PM_BIN/postmaster-smtpd" -C other.cdb mx.example.net </dev/null >out 2>err
	rc=$?
	out=$(tr -d '\r' <out)
	is "$rc:$out" "75:421 4.3.0 $(hostname) Service not available: configuration unavailable" \
		"a CDB of another format version is refused with 421"
	is "$(sed 's/^postmaster-smtpd\[[0-9]*\]/postmaster-smtpd/' err)" "postmaster-smtpd: fatal: unable to open other.cdb: format version is not postmaster-cdb 1: recompile with this postmaster-cfcompile" \
		"and the reason is logged"
else
	skip "no cdb tool"
	skip "no cdb tool"
fi

# --- units ---------------------------------------------------------------
mkdir units
"$CC" -c seed.cf -o seed.cdb --units units 2>err
is "$?:$(cat err)" "0:" "--units writes units"
is "$(grep ListenStream units/postmaster-smtpd-mx.example.net.socket)" "ListenStream=25" "port only"
is "$(grep ListenStream units/postmaster-smtpd-localhost.socket)" "ListenStream=[::1]:587" "ipv6-localhost:submission"
grep -q "^ExecStart=$PM_BIN/postmaster-smtpd -C $T_TMP/seed.cdb \"localhost\"\$" units/postmaster-smtpd-localhost@.service
ok $? "the service runs the instance"
if command -v systemd-analyze >/dev/null && [ -x "$PM_BIN/postmaster-smtpd" ]; then
	SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no units/*.socket units/*.service >verify.out 2>&1
	ok $? "systemd-analyze verify accepts them"
	[ -s verify.out ] && sed 's/^/# /' verify.out
else
	skip "systemd-analyze or postmaster-smtpd missing"
fi

# Behind a load balancer (proxy-protocol) every connection comes from the
# balancer: a per-source limit would cap all clients together.
printf '[smtpd "lb.test"]\nlisten-port = 2525\nproxy-protocol = yes\n[smtpd "mx.test"]\nlisten-port = 25\n' >lb.cf
mkdir lbunits
"$CC" -c lb.cf -o lb.cdb --units lbunits 2>err
is "$?:$(cat err)" "0:" "--units with proxy-protocol"
want_socket() { # NAME PORT EXTRA-LINES: the exact unit --units writes
	printf '# Generated by postmaster-cfcompile --units from lb.cdb; do not edit.
[Unit]
Description=Postmaster SMTP listener %s
Documentation=man:postmaster-smtpd(8)

[Socket]
ListenStream=%s
Accept=yes
MaxConnections=256
%s
[Install]
WantedBy=sockets.target' "$1" "$2" "$3"
}
is "$(cat lbunits/postmaster-smtpd-lb.test.socket)" "$(want_socket lb.test 2525 '')" \
    "proxy-protocol = yes: no MaxConnectionsPerSource (the source is the balancer)"
is "$(cat lbunits/postmaster-smtpd-mx.test.socket)" \
    "$(want_socket mx.test 25 'MaxConnectionsPerSource=32
')" "without it: MaxConnectionsPerSource=32"

# A relay's AUTH keys: both or neither, and never with tls = none.
printf '[relay "a"]\naddress = 127.0.0.1\nauth-user = u\n[relay "b"]\nauth-password-file = /x\n[relay "c"]\ntls = none\nauth-user = u\nauth-password-file = /x\n[relay "d"]\ntls = verify\nauth-user = u\nauth-password-file = /x\n' >auth.cf
"$CC" -c auth.cf --check 2>err
is "$?:$(cat err)" "65:auth.cf:3:1: [relay \"a\"]: auth-user needs auth-password-file
auth.cf:5:1: [relay \"b\"]: auth-password-file needs auth-user
auth.cf:7:1: [relay \"c\"]: tls = none with auth-user: the password is sent only inside TLS
postmaster-cfcompile: auth.cf: 3 errors; nothing done" \
    "relay AUTH keys: each mistake with FILE:LINE; tls = verify with both passes"
# tls-client = none in [core] is the level of a relay without tls
printf '[core]\ntls-client = none\n[relay "e"]\nauth-user = u\nauth-password-file = /x\n[relay "f"]\ntls = may\nauth-user = u\nauth-password-file = /x\n' >auth2.cf
"$CC" -c auth2.cf --check 2>err
is "$?:$(cat err)" "65:auth2.cf:4:1: [relay \"e\"]: auth-user with [core] tls-client = none and no tls here: the password is sent only inside TLS
auth2.cf:8:1: warning: [relay \"f\"]: auth-user without tls = verify: the relay's certificate is not checked, so a man in the middle could take the password
postmaster-cfcompile: auth2.cf: 1 error; nothing done" \
    "relay AUTH keys: [core] tls-client = none is an error for a relay without tls; tls = may only a warning"
printf '[relay "g"]\naddress = 127.0.0.1\ntls = encrypt\nauth-user = u\nauth-password-file = /x\n' >auth3.cf
"$CC" -c auth3.cf --check 2>err
is "$?:$(cat err)" "0:auth3.cf:4:1: warning: [relay \"g\"]: auth-user without tls = verify: the relay's certificate is not checked, so a man in the middle could take the password" \
    "auth-user with tls = encrypt: compiles, with a warning (the certificate is not checked)"
long=$(printf '%0256d' 0)
printf '[relay "h"]\naddress = 127.0.0.1\ntls = verify\nauth-user = %s\nauth-password-file = /x\n' "$long" >auth4.cf
"$CC" -c auth4.cf --check 2>err
is "$?:$(cat err)" "65:auth4.cf:4:1: [relay \"h\"]: auth-user is over 255 octets (RFC 4616)
postmaster-cfcompile: auth4.cf: 1 error; nothing done" \
    "auth-user over 255 octets: an error (it would be read as none)"
# auth-required without auth would take MAIL from anybody (or, as smtpd
# now fails closed, from nobody): an error either way
printf '[smtpd "sub"]\nrouting-table = r\nauth-required = yes\n[smtpd "ok"]\nrouting-table = r\nauth-required = no\n[route "r"]\n@x.test [127.0.0.1]\n' >req.cf
"$CC" -c req.cf --check 2>err
is "$?:$(cat err)" "65:req.cf:3:1: [smtpd \"sub\"]: auth-required = yes needs auth (an [auth] section to check logins)
postmaster-cfcompile: req.cf: 1 error; nothing done" \
    "auth-required = yes without auth: FILE:LINE error; = no passes"
printf '[smtpd "sub"]\nrouting-table = r\nauth = u\nauth-required = yes\n[auth "u"]\ndovecot = /run/dovecot/auth-client\n[route "r"]\n@x.test [127.0.0.1]\n' >req2.cf
"$CC" -c req2.cf --check 2>err
is "$?:$(cat err)" "65:req2.cf:4:1: [smtpd \"sub\"]: auth-required = yes needs tls: AUTH is offered only under TLS, so every MAIL would be refused
req2.cf:3:1: warning: [smtpd \"sub\"] has no tls: AUTH is offered only under TLS, so never here
postmaster-cfcompile: req2.cf: 1 error; nothing done" \
    "auth-required = yes with auth but no tls: an error (AUTH never offered)"

done_testing
