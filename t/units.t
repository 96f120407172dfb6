#!/bin/sh
# The shipped systemd units pass `systemd-analyze verify` (with ExecStart
# pointed at the build, since nothing is installed during tests).
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip_all "no systemd-analyze"
mkdir "$T_TMP/u"
for f in "$PM_TOP"/units/*; do
	sed "s|/usr/local/sbin/|$PM_BIN/|g" "$f" >"$T_TMP/u/${f##*/}"
done
for f in "$T_TMP"/u/*; do
	prog=$(sed -n 's|^ExecStart=\([^ ]*\).*|\1|p' "$f")
	if [ -n "$prog" ] && [ ! -x "$prog" ]; then
		skip "${f##*/}: $prog is not built"
		continue
	fi
	out=$(cd "$T_TMP/u" && SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no "${f##*/}" 2>&1)
	is "$out" "" "systemd-analyze verify ${f##*/}"
done
grep -q '^Type=notify' "$PM_TOP/units/postmaster-queue.service"
ok $? "the queue runner is Type=notify"
for k in NoNewPrivileges ProtectSystem PrivateTmp RestrictAddressFamilies MemoryMax; do
	grep -q "^$k=" "$PM_TOP/units/postmaster-smtpd@.service"
	ok $? "smtpd service sandboxing: $k"
done
grep -q '^User=postmaster$' "$PM_TOP/units/postmaster-spf.service"
ok $? "the spf service runs as postmaster (it refuses root)"
grep -q '^ExecStart=[^ ]*postmaster-spf -l /run/postmaster/spf ' "$PM_TOP/units/postmaster-spf.service"
ok $? "the spf service listens where [core] spf-socket points by default"
grep -q '^MaxConnectionsPerSource=' "$PM_TOP/units/postmaster-smtpd.socket"
ok $? "smtpd socket limits connections per source"
done_testing
