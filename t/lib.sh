# t/lib.sh: TAP helpers for the shell end-to-end tests.
# PM_BIN points at the test build (set by `make test`; doc/HACKING.md).
: "${PM_BIN:=$(cd "$(dirname "$0")/.." && pwd)/build/test}"
: "${PM_TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
T_N=0
T_FAILED=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pm-test.XXXXXX")
chmod 755 "$T_TMP"  # programs that drop privileges must reach it
T_USERS=
T_MADE_POSTDROP=
t_cleanup() {
	for u in $T_USERS; do userdel "$u" 2>/dev/null; done
	[ -n "$T_MADE_POSTDROP" ] && groupdel postdrop 2>/dev/null
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT

ok() { # ok COND-EXIT-STATUS NAME
	T_N=$((T_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_N - $2"
	else
		echo "not ok $T_N - $2"
		T_FAILED=$((T_FAILED + 1))
	fi
}

is() { # is GOT WANT NAME
	T_N=$((T_N + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $T_N - $3"
	else
		echo "not ok $T_N - $3"
		T_FAILED=$((T_FAILED + 1))
		printf '%s\n' "#      got: '$1'" | sed '2,$s/^/#           /'
		printf '%s\n' "# expected: '$2'" | sed '2,$s/^/#           /'
	fi
}

like() { # like GOT GREP-PATTERN NAME
	T_N=$((T_N + 1))
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		echo "ok $T_N - $3"
	else
		echo "not ok $T_N - $3"
		T_FAILED=$((T_FAILED + 1))
		printf '%s\n' "$1" | sed 's/^/#   got: /'
		echo "#   expected to match: $2"
	fi
}

skip_all() { echo "1..0 # SKIP $1"; exit 0; }
skip() { T_N=$((T_N + 1)); echo "ok $T_N # skip $1"; }

done_testing() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}

# t_private_etc 'SHELL COMMANDS': runs them in a private mount namespace
# whose /etc is an overlay with $T_TMP/etc as its upper layer, so a test
# can place /etc/postmaster.cdb (the only CDB a setgid postmaster-inject
# takes from an ordinary user) or add users without touching the host.
# Needs root; returns 125 when the overlay cannot be mounted.
t_private_etc() {
	mkdir -p "$T_TMP/etc" "$T_TMP/etc.work"
	unshare -m sh -c 'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc || exit 125
		shift 2; exec sh -c "$1"' sh "$T_TMP/etc" "$T_TMP/etc.work" "$1"
}

# t_add_user NAME [useradd options]: a throwaway user without a home, and
# the postdrop group if there is none; t_cleanup removes what it made.
t_add_user() {
	if ! getent group postdrop >/dev/null; then
		groupadd -r postdrop || return 1
		T_MADE_POSTDROP=1
	fi
	u=$1
	shift
	useradd -M -d /nonexistent -s /bin/sh "$@" "$u" || return 1
	T_USERS="$T_USERS $u"
}

# t_local_cf [CORE-LINES]: a configuration whose spool is $SPOOL and whose
# mail for @example.test goes to joe's Maildir under $T_TMP/mail.
t_local_cf() {
	printf '[core]\nhostname = mail.example.test\nspool-directory = "%s"\n%s\n[lmtpd]\nmaildir = "%s/mail/%%u/Maildir"\n[route]\n@example.test joe\n' \
	    "$SPOOL" "${1:-}" "$T_TMP"
}
