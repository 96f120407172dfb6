# Postmaster — one non-recursive GNU Makefile.
#
#   make            build everything into build/
#   make check      install test deps, format-check, run the suite (-Werror),
#                   then again under ASan+UBSan
#   make test       the suite against $(BUILD)/test (with the test knobs,
#                   warnings are errors)
#   make test-build build $(BUILD)/test without running the suite
#   make format-check  clang-format on the files that follow .clang-format
#   make run        the embedded default on loopback (see README)
#   make fuzz       run every libFuzzer target for FUZZ_TIME seconds
#   make bench      benchmarks against Postfix (by hand; prints ratios)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
UNITDIR  ?= $(PREFIX)/lib/systemd/system
DESTDIR  ?=
BUILD    ?= build
FUZZ_TIME ?= 20
SAN      ?=
INSTALL_SENDMAIL ?= no

CC      ?= cc
# Warnings are errors where CI looks (make test, make check) and not in a
# plain build, so a packager's newer compiler does not break the build.
WERROR  ?=
WARN     = -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Wvla \
           -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
           -Wno-format-nonliteral $(if $(filter 1 yes,$(WERROR)),-Werror)
STD      = -std=c11 -D_POSIX_C_SOURCE=200809L
ifeq ($(SAN),1)
OPT      = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=all
SANLD    = -fsanitize=address,undefined
else
OPT      = -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
SANLD    =
endif
CPPFLAGS += -Ilib -It
# Test-only knobs (doc/HACKING.md lists them): environment variables that
# let the suite reach a state quickly (a crash inside a spool commit, short
# timeouts) exist only in programs compiled with -DPM_TEST_KNOBS. A build
# tree whose name ends in /test is such a build (make test uses
# $(BUILD)/test), so the programs of `make all`, `make run` and
# `make install` never read them, and no object is shared between the two.
ifneq ($(filter %/test,$(BUILD)),)
CPPFLAGS += -DPM_TEST_KNOBS
endif
CFLAGS  ?=
ALLCFLAGS = $(STD) $(OPT) $(WARN) -fPIE -MMD -MP $(CPPFLAGS) $(CFLAGS)
LDFLAGS ?=
ALLLDFLAGS = -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(SANLD) $(LDFLAGS)
LIBS     = -lcdb -lcrypt $(shell pkg-config --libs gnutls libsystemd 2>/dev/null) -lspf2 -lresolv

LIB_SRC  = $(sort $(wildcard lib/*/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
PROG_SRC = $(sort $(wildcard postmaster-*.c))
PROGS    = $(PROG_SRC:%.c=$(BUILD)/%)
UNIT_SRC = $(sort $(wildcard t/unit/*.c))
UNITS_T  = $(UNIT_SRC:%.c=$(BUILD)/%.t)
FUZZ_SRC = $(sort $(wildcard fuzz/fuzz_*.c))
REPLAY   = $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/replay_%)
# Small programs end-to-end tests drive library code with (t/data/*.c).
DRIVE_SRC = $(sort $(wildcard t/data/*.c))
DRIVES   = $(DRIVE_SRC:%.c=$(BUILD)/%)

.SECONDARY:
.PHONY: test-run all deps check test test-build run fuzz bench install clean format \
	format-check

all: $(PROGS) $(UNITS_T) $(REPLAY) $(DRIVES)

deps:
	@sh scripts/install-deps.sh

$(BUILD)/libpostmaster.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -c -o $@ $<

$(BUILD)/postmaster-%: $(BUILD)/postmaster-%.o $(BUILD)/libpostmaster.a
	$(CC) $(ALLLDFLAGS) $(STATIC) -o $@ $^ $(LIBS)

# One smtpd process per connection: linked statically it skips the dynamic
# loader on every connection (one 4 KiB message per connection: 1.85 ms
# static vs 2.95 ms dynamic here, bench/). Sanitizer builds stay dynamic.
# glibc warns that getpwnam/getgrnam then load NSS modules at run time:
# smtpd looks up only its own user there, and reads /etc/passwd itself for
# the RCPT check (lib/deliver/deliver_account.h says why).
ifneq ($(SAN),1)
$(BUILD)/postmaster-smtpd: STATIC = -static-pie
$(BUILD)/postmaster-smtpd: LIBS = -lcdb -lcrypt -lresolv
endif

$(BUILD)/t/unit/%.t: $(BUILD)/t/unit/%.o $(BUILD)/t/tap.o $(BUILD)/libpostmaster.a
	$(CC) $(ALLLDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/t/data/%: $(BUILD)/t/data/%.o $(BUILD)/libpostmaster.a
	$(CC) $(ALLLDFLAGS) -o $@ $^ $(LIBS)

# The fuzz targets double as corpus-replay regression tests in `make check`.
$(BUILD)/fuzz/replay_%: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/replay.o $(BUILD)/libpostmaster.a
	$(CC) $(ALLLDFLAGS) -o $@ $^ $(LIBS)

check: deps
	$(MAKE) format-check
	$(MAKE) test BUILD=build
	$(MAKE) test-build BUILD=build/asan SAN=1
	$(MAKE) test-run BUILD=build/asan PROD_BUILD=build

# The suite runs the programs of $(BUILD)/test: with the test knobs, and
# with warnings as errors (objects are not compiled again when only WERROR
# changes; CI builds from a fresh clone).
TEST_BUILD = $(BUILD)/test

test-build:
	$(MAKE) all BUILD=$(TEST_BUILD) WERROR=1

# `all` too: t/test-knobs.t checks that its programs read no test knob.
# (check's ASan pass takes the plain `all` for that: one build less.)
test: test-build all
	$(MAKE) test-run

PROD_BUILD = $(BUILD)
# The longest first (prove --timer), so the slots end together instead
# of one running t/queue.t alone at the end. Three at a time on two
# cores: most of a test's time is waiting for its servers, not CPU.
TEST_JOBS = 2
SLOW_T = t/queue.t t/queue-reuse.t t/smtpd-spf.t t/smtpd-tls.t \
	t/queue-tls.t t/smtpd-auth.t t/smtpd-limits.t t/queue-peers.t
E2E_T = $(SLOW_T) $(filter-out $(SLOW_T),$(sort $(wildcard t/*.t)))
test-run:
	PM_BIN=$(abspath $(TEST_BUILD)) PM_PROD_BIN=$(abspath $(PROD_BUILD)) \
	PM_TOP=$(CURDIR) \
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	prove -j$(TEST_JOBS) $(E2E_T) $(UNIT_SRC:%.c=$(TEST_BUILD)/%.t)

run: deps all
	sh scripts/run.sh

# libFuzzer needs clang; the objects go to their own tree.
FUZZ_BUILD = build/fuzz-clang
FUZZ_CFLAGS = $(STD) -O1 -g $(WARN) -MMD -MP $(CPPFLAGS)
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BINS = $(FUZZ_SRC:fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/fuzz/fuzz_%.o $(FUZZ_LIB_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

fuzz: deps $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
		n=$${f##*/}; mkdir -p fuzz/corpus/$$n $(FUZZ_BUILD)/new/$$n; \
		echo "== $$n ($(FUZZ_TIME)s)"; \
		$$f -max_total_time=$(FUZZ_TIME) -max_len=4096 \
		    $(FUZZ_BUILD)/new/$$n fuzz/corpus/$$n || exit 1; \
	done

bench: deps all
	sh bench/run.sh

# Files only; then, as root and without DESTDIR, postmaster-setup (users,
# groups, configuration, spool, setgid inject). A package runs
# postmaster-setup from its postinst instead.
install: all
	@case "$(BUILD)" in */test) echo "postmaster: $(BUILD) is a test" \
	    "build (test knobs): not installed" >&2; exit 1;; esac
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR)
	install -m 755 $(PROGS) $(DESTDIR)$(SBINDIR)/
	sed 's|@SBINDIR@|$(SBINDIR)|g' scripts/postmaster-setup.sh \
	    >$(DESTDIR)$(SBINDIR)/postmaster-setup
	chmod 755 $(DESTDIR)$(SBINDIR)/postmaster-setup
	install -m 644 $(wildcard doc/*.5) $(DESTDIR)$(MANDIR)/man5/
	install -m 644 $(wildcard doc/*.8) $(DESTDIR)$(MANDIR)/man8/
	for u in $(wildcard units/*.service units/*.socket); do \
		sed 's|/usr/local/sbin/|$(SBINDIR)/|g' $$u \
		    >$(DESTDIR)$(UNITDIR)/$${u##*/} && \
		chmod 644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; \
	done
	@if [ "$(INSTALL_SENDMAIL)" = yes ]; then \
		install -d $(DESTDIR)$(BINDIR) && \
		ln -sf $(SBINDIR)/postmaster-inject $(DESTDIR)$(SBINDIR)/sendmail && \
		ln -sf $(SBINDIR)/postmaster-inject $(DESTDIR)$(BINDIR)/mailq && \
		ln -sf $(SBINDIR)/postmaster-inject $(DESTDIR)$(BINDIR)/newaliases; \
	fi
	@if [ -n "$(DESTDIR)" ]; then \
		echo "postmaster: DESTDIR install: no users, spool or setgid bit;" \
		    "run $(SBINDIR)/postmaster-setup as root on the target"; \
	elif [ "$$(id -u)" != 0 ]; then \
		echo "postmaster: not root: run $(SBINDIR)/postmaster-setup as root"; \
	else \
		$(SBINDIR)/postmaster-setup; \
	fi

# The files that match .clang-format today; the rest keep their hand-made
# KNF (see .clang-format) until they are rewritten for another reason.
FORMAT_SRC = fuzz/fuzz_cf.c fuzz/fuzz_route.c fuzz/fuzz_smtp_line.c \
	fuzz/fuzz_auth_sasl.c fuzz/fuzz_auth_dovecot.c $(wildcard lib/auth/*.[ch]) \
	t/unit/auth_sasl.c t/unit/auth_crypt.c t/unit/auth_dovecot_proto.c \
	t/unit/smtp_session_auth.c t/unit/auth_smtpd.c \
	fuzz/replay.c lib/base/array.c lib/base/array.h lib/base/buf.c \
	lib/base/crlf.c lib/base/crlf.h lib/base/date.c lib/base/date.h \
	lib/base/io.c lib/base/io.h lib/base/priv.c lib/base/priv.h \
	lib/base/str.h lib/base/sibling.c lib/base/sibling.h \
	lib/base/strset.c lib/base/strset.h lib/base/wpool.c lib/base/wpool.h \
	t/unit/wpool.c lib/cf/cf_check.h \
	lib/cf/cf_db.h lib/cf/cf_diag.h lib/cf/cf_dump.h lib/cf/cf_load.h \
	lib/cf/cf_logger.h lib/cf/cf_parse.h lib/cf/cf_value.h \
	lib/cf/cf_words.h lib/client/client_reply.c lib/deliver/deliver_path.c \
	lib/deliver/deliver_user.c lib/deliver/deliver_user.h \
	lib/inject/inject_bs.c lib/inject/inject_bs.h lib/inject/inject_cfg.c \
	lib/inject/inject_cfg.h lib/inject/inject_env.c lib/inject/inject_env.h \
	lib/inject/inject_route.c lib/inject/inject_route.h \
	lib/inject/inject_submit.c lib/inject/inject_submit.h \
	lib/net/net_drive.h lib/net/net_peer.h lib/proxy/proxy_conn.c \
	lib/proxy/proxy_conn.h lib/proxy/proxy_dest.c lib/proxy/proxy_dest.h \
	lib/proxy/proxy_early.c lib/proxy/proxy_early.h t/unit/smtp_session_later.c \
	lib/proxy/proxy_outcome.c lib/proxy/proxy_outcome.h \
	lib/proxy/proxy_reply.c lib/proxy/proxy_reply.h lib/proxy/proxy_tx.c \
	lib/proxy/proxy_tx.h fuzz/fuzz_proxy_reply.c t/unit/proxy.c \
	lib/queue/queue_cfg.c \
	lib/queue/queue_admin.c lib/queue/queue_admin.h \
	lib/queue/queue_attempt.c lib/queue/queue_attempt.h \
	lib/queue/queue_attempt_pipe.c lib/queue/queue_attempt_pipe.h \
	lib/queue/queue_attempt_smtp.c lib/queue/queue_attempt_smtp.h \
	lib/queue/queue_bounce.c lib/queue/queue_bounce.h \
	lib/queue/queue_cfg.h lib/queue/queue_dcount.c lib/queue/queue_dcount.h \
	lib/queue/queue_due.c lib/queue/queue_due.h \
	lib/queue/queue_run.c lib/queue/queue_run.h lib/queue/queue_retry.c \
	lib/queue/queue_retry.h lib/queue/queue_table.c lib/queue/queue_table.h \
	lib/queue/queue_dispatch.c lib/queue/queue_dispatch.h \
	lib/queue/queue_pool.c lib/queue/queue_pool.h \
	lib/queue/queue_job.c lib/queue/queue_job.h lib/queue/queue_list.c \
	lib/queue/queue_list.h lib/queue/queue_lmtpd.c \
	lib/queue/queue_lmtpd.h lib/queue/queue_outcome.h lib/queue/queue_pick.c \
	lib/queue/queue_pick.h lib/queue/queue_priv.c \
	lib/queue/queue_priv.h \
	lib/queue/queue_target.c lib/queue/queue_target.h \
	lib/queue/queue_window.c lib/queue/queue_window.h \
	lib/route/route_db.h lib/route/route_reject.c lib/route/route_reject.h \
	lib/smtp/smtp_line.c lib/spool/spool_id.h t/tap.h \
	t/unit/queue_dcount.c t/unit/queue_list.c t/unit/queue_pick.c \
	t/unit/queue_window.c t/unit/queue_table.c t/unit/queue_pool.c \
	t/unit/base_array.c t/unit/base_crlf.c t/unit/base_date.c \
	t/unit/base_io.c \
	fuzz/fuzz_net_tls_report.c lib/cf/cf_check_tls.c lib/cf/cf_check_tls.h \
	lib/net/net_starttls.c lib/net/net_starttls.h lib/net/net_tls_report.c \
	lib/net/net_tls_report.h lib/smtp/smtp_proto.c lib/smtp/smtp_proto.h \
	lib/smtpd/smtpd_tls.c lib/smtpd/smtpd_tls.h lib/tlsd/tlsd_conn.c \
	lib/tlsd/tlsd_conn.h lib/tlsd/tlsd_cred.c lib/tlsd/tlsd_cred.h \
	postmaster-tlsd.c t/unit/net_tls_report.c t/unit/smtp_proto.c \
	lib/client/client_tls.c lib/client/client_tls.h \
	lib/client/client_tls_memo.c lib/client/client_tls_memo.h \
	lib/client/client_auth.c lib/client/client_auth.h t/unit/client_auth.c \
	lib/client/client_tls_steps.c lib/client/client_tls_steps.h \
	fuzz/fuzz_spf_input.c fuzz/fuzz_spf_proto.c \
	fuzz/fuzz_spf_untrust.c lib/spf/spf_child.c lib/spf/spf_child.h \
	lib/spf/spf_eval.c lib/spf/spf_eval.h lib/spf/spf_eval_dns.c \
	lib/spf/spf_eval_dns.h lib/spf/spf_gate.c lib/spf/spf_gate.h \
	lib/spf/spf_input.c lib/spf/spf_input.h lib/spf/spf_proto.c \
	lib/spf/spf_proto.h lib/spf/spf_report.c lib/spf/spf_report.h \
	lib/spf/spf_sandbox.c lib/spf/spf_sandbox.h lib/spf/spf_untrust.c \
	lib/spf/spf_untrust.h postmaster-spf.c t/unit/spf_input.c \
	t/unit/spf_proto.c t/unit/spf_report.c t/unit/spf_untrust.c \
	t/unit/spf_sandbox.c \
	fuzz/fuzz_net_tlsd_req.c lib/net/net_tlsd_req.c lib/net/net_tlsd_req.h \
	lib/tlsd/tlsd_inst.c lib/tlsd/tlsd_inst.h lib/tlsd/tlsd_service.c \
	lib/tlsd/tlsd_service.h t/unit/net_tlsd_req.c \
	lib/tlsd/tlsd_trust.c lib/tlsd/tlsd_trust.h t/unit/tlsd_trust.c \
	lib/base/san_setgid.h \
	lib/spf/spf_hello.c lib/spf/spf_hello.h \
	lib/spf/spf_service.c lib/spf/spf_service.h t/unit/spf_hello.c \
	fuzz/fuzz_spf_hello.c

format:
	clang-format -i $(FORMAT_SRC)

format-check:
	clang-format --dry-run -Werror $(FORMAT_SRC)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
