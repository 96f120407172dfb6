# Postmaster — one non-recursive GNU Makefile.
#
#   make            build everything into build/
#   make check      install test deps, format-check, run the suite (-Werror),
#                   then again under ASan+UBSan
#   make test       the suite against $(BUILD) (warnings are errors)
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
CFLAGS  ?=
ALLCFLAGS = $(STD) $(OPT) $(WARN) -fPIE -MMD -MP $(CPPFLAGS) $(CFLAGS)
LDFLAGS ?=
ALLLDFLAGS = -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(SANLD) $(LDFLAGS)
LIBS     = -lcdb $(shell pkg-config --libs gnutls libsystemd 2>/dev/null) -lspf2 -lresolv

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
.PHONY: all deps check test run fuzz bench install clean format format-check

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
$(BUILD)/postmaster-smtpd: LIBS = -lcdb
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
	$(MAKE) test BUILD=build/asan SAN=1

# Target-specific, so it reaches every object `all` compiles for the suite
# (objects a plain `make` already built are not compiled again; CI builds
# from a fresh clone).
test: WERROR = 1
test: all
	PM_BIN=$(abspath $(BUILD)) PM_TOP=$(CURDIR) \
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	prove -j2 $(UNITS_T) t/*.t

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
	fuzz/replay.c lib/base/array.c lib/base/array.h lib/base/buf.c \
	lib/base/crlf.c lib/base/crlf.h lib/base/date.c lib/base/date.h \
	lib/base/io.c lib/base/io.h lib/base/priv.c lib/base/priv.h \
	lib/base/str.h lib/base/strset.c lib/base/strset.h lib/cf/cf_check.h \
	lib/cf/cf_db.h lib/cf/cf_diag.h lib/cf/cf_dump.h lib/cf/cf_load.h \
	lib/cf/cf_logger.h lib/cf/cf_parse.h lib/cf/cf_value.h \
	lib/cf/cf_words.h lib/client/client_reply.c lib/deliver/deliver_path.c \
	lib/deliver/deliver_user.c lib/deliver/deliver_user.h \
	lib/net/net_drive.h lib/net/net_peer.h lib/queue/queue_cfg.c \
	lib/queue/queue_admin.c lib/queue/queue_admin.h \
	lib/queue/queue_attempt.c lib/queue/queue_attempt.h \
	lib/queue/queue_attempt_pipe.c lib/queue/queue_attempt_pipe.h \
	lib/queue/queue_attempt_smtp.c lib/queue/queue_attempt_smtp.h \
	lib/queue/queue_bounce.c lib/queue/queue_bounce.h \
	lib/queue/queue_cfg.h lib/queue/queue_dcount.c lib/queue/queue_dcount.h \
	lib/queue/queue_due.c lib/queue/queue_due.h \
	lib/queue/queue_run.c lib/queue/queue_run.h lib/queue/queue_sched.c \
	lib/queue/queue_job.c lib/queue/queue_job.h lib/queue/queue_lmtpd.c \
	lib/queue/queue_lmtpd.h lib/queue/queue_outcome.h lib/queue/queue_pick.c \
	lib/queue/queue_pick.h lib/queue/queue_priv.c \
	lib/queue/queue_priv.h \
	lib/queue/queue_target.c lib/queue/queue_target.h \
	lib/queue/queue_window.c lib/queue/queue_window.h \
	lib/route/route_db.h lib/smtp/smtp_line.c lib/spool/spool_id.h t/tap.h \
	t/unit/queue_dcount.c t/unit/queue_pick.c t/unit/queue_window.c \
	t/unit/base_array.c t/unit/base_crlf.c t/unit/base_date.c \
	t/unit/base_io.c fuzz/fuzz_spf_input.c fuzz/fuzz_spf_proto.c \
	fuzz/fuzz_spf_untrust.c lib/spf/spf_child.c lib/spf/spf_child.h \
	lib/spf/spf_eval.c lib/spf/spf_eval.h lib/spf/spf_eval_dns.c \
	lib/spf/spf_eval_dns.h lib/spf/spf_gate.c lib/spf/spf_gate.h \
	lib/spf/spf_input.c lib/spf/spf_input.h lib/spf/spf_proto.c \
	lib/spf/spf_proto.h lib/spf/spf_report.c lib/spf/spf_report.h \
	lib/spf/spf_sandbox.c lib/spf/spf_sandbox.h lib/spf/spf_untrust.c \
	lib/spf/spf_untrust.h postmaster-spf.c t/unit/spf_input.c \
	t/unit/spf_proto.c t/unit/spf_report.c t/unit/spf_untrust.c \
	t/unit/spf_sandbox.c lib/spf/spf_hello.c lib/spf/spf_hello.h \
	lib/spf/spf_service.c lib/spf/spf_service.h t/unit/spf_hello.c \
	fuzz/fuzz_spf_hello.c

format:
	clang-format -i $(FORMAT_SRC)

format-check:
	clang-format --dry-run -Werror $(FORMAT_SRC)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
