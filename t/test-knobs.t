#!/bin/sh
# Test-only knobs exist only in test builds (doc/HACKING.md, "Test-only
# knobs"): the programs `make all` builds (what `make run` and
# `make install` use) never read them, those of `make test` do.
# PM_PROD_BIN is the directory of the programs `make all` built; `make
# test` sets it.
. "$(dirname "$0")/lib.sh"
[ -n "${PM_PROD_BIN:-}" ] || skip_all "PM_PROD_BIN not set (make test sets it)"
[ -x "$PM_PROD_BIN/postmaster-inject" ] || skip_all "no programs in $PM_PROD_BIN"
[ "$(cd "$PM_PROD_BIN" && pwd)" != "$(cd "$PM_BIN" && pwd)" ] ||
	skip_all "PM_PROD_BIN is PM_BIN"
command -v strings >/dev/null || skip_all "no strings(1) (binutils)"

# The knobs read outside lib/queue and postmaster-queue.c, and the
# programs that link the code reading them.
for pk in postmaster-inject:PM_INJECT_TIMEOUT_SCALE_MS \
    postmaster-smtpd:PM_SPOOL_CRASH_AT postmaster-queue:PM_SPOOL_CRASH_AT; do
	p=${pk%%:*} k=${pk#*:}
	is "$(strings "$PM_BIN/$p" | grep -c "^$k\$")" 1 "test build: $p reads $k"
	is "$(strings "$PM_PROD_BIN/$p" | grep -c "^$k\$")" 0 "make all: $p does not"
done
# The unit test of the spool writer, built without the knobs, checks that
# the crash hook is inert: the writer commits.
out=$("$PM_PROD_BIN/t/unit/spool_write.t" 2>&1)
is "$?" 0 "make all: t/unit/spool_write passes"
like "$out" "^ok [0-9]* - without PM_TEST_KNOBS, PM_SPOOL_CRASH_AT is not read$" "and says the crash hook is not read"
done_testing
