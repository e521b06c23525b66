# ticket-milter - build, test, benchmark, install.
#
#   make            build/ticket-milter and build/ticketctl
#   make check      every test; the last line says "N passed, N failed, N skipped"
#   make asan       the same tests built with AddressSanitizer + UBSan
#   make tsan       the unit tests and the threaded daemon's suites under ThreadSanitizer
#   make analyze    clang's static analyzer over every source; fails on a finding
#   make bench      throughput against a private Postfix (see bench/)
#   make demo       install what is missing, build, run a private Postfix with samples
#   make install    PREFIX=/usr/local DESTDIR=
#   make deb        the Debian package (debian/), into $(BUILD)/deb
#
# CPPFLAGS, CFLAGS and LDFLAGS from the environment or the command line are
# used as given (a packager's hardening flags reach every object).  Warnings
# stop a development build; a package build says WERROR= so that another
# compiler's new warning does not stop it.

PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share/ticket-milter
SYSCONFDIR ?= /etc
BUILD     ?= build

CC        ?= cc
PKGS      := milter gmime-3.0 glib-2.0 gio-2.0 sqlite3 libpq libcurl json-glib-1.0 libical libxml-2.0 \
             libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -lpthread

CFLAGS    ?= -O2 -g
WERROR    ?= -Werror
WARN      := -std=c11 -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wno-unused-parameter
DEFS      := -D_GNU_SOURCE -DDATADIR='"$(DATADIR)"' -DSYSCONFDIR='"$(SYSCONFDIR)"'
INCS      := -I. $(PKG_CFLAGS)
ALL_CFLAGS := $(WARN) $(DEFS) $(INCS) $(CPPFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS := $(LDFLAGS) $(EXTRA_LDFLAGS)

# Everything but the two main programs goes into one static library that
# the daemon, ticketctl and the unit tests link.
LIB_DIRS  := util config parser router store templates outbound
LIB_SRC   := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
MILTER_SRC := $(wildcard milter/*.c)
MILTER_OBJ := $(MILTER_SRC:%.c=$(BUILD)/obj/%.o)
CLI_SRC   := $(wildcard cli/*.c)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC  := $(wildcard tests/unit/test-*.c)
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Helpers the end-to-end tests and scripts run (not tests themselves).
TOOL_SRC  := $(wildcard tests/tools/*.c)
TOOL_BIN  := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
# Tests may drive the milter callbacks in-process: they link the daemon's
# objects except main().
MILTER_LIB_OBJ := $(filter-out $(BUILD)/obj/milter/main.o,$(MILTER_OBJ))

.PHONY: all programs check unit e2e asan tsan tsan-build analyze bench demo install uninstall clean fuzz deb
all: programs $(TEST_BIN) $(TOOL_BIN)

programs: $(BUILD)/ticket-milter $(BUILD)/ticketctl

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libticket.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/ticket-milter: $(MILTER_OBJ) $(BUILD)/libticket.a
	@echo "  LINK    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

$(BUILD)/ticketctl: $(CLI_OBJ) $(BUILD)/libticket.a
	@echo "  LINK    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(MILTER_LIB_OBJ) $(BUILD)/libticket.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

# test-milter looks at the decision the milter gets (tests/unit/test-milter.c).
$(BUILD)/tests/test-milter: ALL_LDFLAGS += -Wl,--wrap=router_decide

$(BUILD)/tests/tools/%: $(BUILD)/obj/tests/tools/%.o $(MILTER_LIB_OBJ) $(BUILD)/libticket.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

check: all
	@BUILD=$(BUILD) tests/run

unit: all
	@BUILD=$(BUILD) tests/run --unit

e2e: all
	@BUILD=$(BUILD) tests/run --e2e

asan:
	$(MAKE) BUILD=build-asan CC=clang CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    EXTRA_LDFLAGS="-fsanitize=address,undefined" all
	@BUILD=build-asan tests/run

# ThreadSanitizer: every unit test, and the end-to-end suites that drive
# the daemon's threads (TSAN_SUITES; TSAN_SUITES= runs them all, slowly).
# tests/run hands the suppressions in tests/tsan.supp to every program and
# fails a test during which any program it ran wrote a ThreadSanitizer
# report (two runs of tests/run, so two summary lines).
TSAN_SUITES ?= test-pipeline test-daemon test-fault-sessions test-fault-kill test-webhook test-sla \
    test-threads test-notify
# GLib's locks are invisible to ThreadSanitizer: util/tsan.c stands in for
# them (util/tsan.h says why), and -u makes every program take it.
tsan-build:
	$(MAKE) BUILD=build-tsan CC=clang CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	    EXTRA_CFLAGS="-fsanitize=thread" \
	    EXTRA_LDFLAGS="-fsanitize=thread -Wl,-u,tsan_glib_annotated" all

tsan: tsan-build
	@BUILD=build-tsan tests/run --unit
	@if [ -z "$(TSAN_SUITES)" ]; then BUILD=build-tsan tests/run --e2e; else \
	    BUILD=build-tsan TESTS="$(TSAN_SUITES)" tests/run --e2e; fi

# Dead stores are left out: "p = thing_free(p);" is how our destructors
# are called (STYLE.md), and the analyzer counts the NULL as a dead store.
analyze:
	rm -rf build-analyze
	scan-build --status-bugs -disable-checker deadcode.DeadStores -o build-analyze/report \
	    $(MAKE) BUILD=build-analyze CFLAGS="-O0 -g" all

bench: all
	@BUILD=$(BUILD) bench/run

demo:
	scripts/install-deps --dev
	$(MAKE) all
	@BUILD=$(BUILD) scripts/demo

# Build and install with the same PREFIX: the daemon looks for its
# templates in DATADIR.  The unit and the example config name the installed paths; the copies in
# etc/ say /usr/local and /etc, and are rewritten for other prefixes.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
TEMPLATE_LANGS := $(patsubst templates/%/,%,$(wildcard templates/*/))
INSTALL_SED := sed -e 's|/usr/local/sbin|$(SBINDIR)|g' -e 's|/usr/local/share/ticket-milter|$(DATADIR)|g' \
    -e 's|/etc/ticket-milter.conf|$(SYSCONFDIR)/ticket-milter.conf|g'

install: $(BUILD)/ticket-milter $(BUILD)/ticketctl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR) \
	    $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 755 $(BUILD)/ticket-milter $(DESTDIR)$(SBINDIR)/ticket-milter
	install -m 755 $(BUILD)/ticketctl $(DESTDIR)$(BINDIR)/ticketctl
	install -m 644 man/ticketctl.1 $(DESTDIR)$(MANDIR)/man1/ticketctl.1
	install -d $(DESTDIR)$(COMPLETIONDIR)
	install -m 644 etc/ticketctl.bash-completion $(DESTDIR)$(COMPLETIONDIR)/ticketctl
	install -m 644 man/ticket-milter.conf.5 $(DESTDIR)$(MANDIR)/man5/ticket-milter.conf.5
	install -m 644 man/ticket-milter.8 $(DESTDIR)$(MANDIR)/man8/ticket-milter.8
	for lang in $(TEMPLATE_LANGS); do \
	    install -d $(DESTDIR)$(DATADIR)/templates/$$lang && \
	    install -m 644 templates/$$lang/*.txt $(DESTDIR)$(DATADIR)/templates/$$lang/ || exit 1; \
	done
	@# Monitoring examples: Prometheus alert rules and a Grafana dashboard.
	install -m 644 etc/ticket-milter-alerts.yml etc/grafana-dashboard.json $(DESTDIR)$(DATADIR)/
	$(INSTALL_SED) etc/ticket-milter.service >$(DESTDIR)$(SYSTEMDUNITDIR)/ticket-milter.service
	chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/ticket-milter.service
	@# An admin's config is never overwritten; the new example goes beside it.
	if [ -e $(DESTDIR)$(SYSCONFDIR)/ticket-milter.conf ]; then \
	    $(INSTALL_SED) etc/ticket-milter.conf >$(DESTDIR)$(SYSCONFDIR)/ticket-milter.conf.example; \
	    chmod 644 $(DESTDIR)$(SYSCONFDIR)/ticket-milter.conf.example; \
	else \
	    $(INSTALL_SED) etc/ticket-milter.conf >$(DESTDIR)$(SYSCONFDIR)/ticket-milter.conf; \
	    chmod 640 $(DESTDIR)$(SYSCONFDIR)/ticket-milter.conf; \
	    if [ -z "$(DESTDIR)" ] && getent group ticket-milter >/dev/null; then \
	        chgrp ticket-milter $(SYSCONFDIR)/ticket-milter.conf; \
	    fi; \
	fi

# Leaves the config (the admin's) and the database alone.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/ticket-milter $(DESTDIR)$(BINDIR)/ticketctl \
	    $(DESTDIR)$(MANDIR)/man1/ticketctl.1 $(DESTDIR)$(MANDIR)/man5/ticket-milter.conf.5 \
	    $(DESTDIR)$(MANDIR)/man8/ticket-milter.8 $(DESTDIR)$(COMPLETIONDIR)/ticketctl \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/ticket-milter.service \
	    $(DESTDIR)$(SYSCONFDIR)/ticket-milter.conf.example
	rm -f $(DESTDIR)$(DATADIR)/ticket-milter-alerts.yml $(DESTDIR)$(DATADIR)/grafana-dashboard.json
	rm -rf $(DESTDIR)$(DATADIR)/templates
	-rmdir $(DESTDIR)$(DATADIR)

# The parser's libFuzzer target (clang): build/fuzz/fuzz-parser. A short
# run is tests/e2e/test-fuzz-parser.sh; ticket-milter(8) says how to run
# it longer.
fuzz:
	@mkdir -p $(BUILD)/fuzz
	@echo "  FUZZ    $(BUILD)/fuzz/fuzz-parser"
	@clang $(WARN) $(DEFS) -I. $(shell pkg-config --cflags gmime-3.0 glib-2.0 libxml-2.0) -O1 -g \
	    -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -o $(BUILD)/fuzz/fuzz-parser fuzz/fuzz-parser.c \
	    $(wildcard parser/*.c) util/lines.c router/commands.c router/address.c \
	    $(shell pkg-config --libs gmime-3.0 glib-2.0 libxml-2.0)

# dpkg-buildpackage writes next to the source tree; the files are moved
# into $(BUILD)/deb, where tests/package/run looks for them.
DEB_VERSION = $(shell dpkg-parsechangelog -S Version)
DEB_ARCH = $(shell dpkg-architecture -q DEB_HOST_ARCH)
DEB_FILES = ticket-milter_$(DEB_VERSION)_$(DEB_ARCH).deb \
    ticket-milter-dbgsym_$(DEB_VERSION)_$(DEB_ARCH).deb \
    ticket-milter_$(DEB_VERSION)_$(DEB_ARCH).buildinfo ticket-milter_$(DEB_VERSION)_$(DEB_ARCH).changes
deb:
	dpkg-buildpackage -us -uc -b
	@mkdir -p $(BUILD)/deb
	cd .. && mv -f $(DEB_FILES) $(CURDIR)/$(BUILD)/deb/
	@echo "  DEB     $(BUILD)/deb/ticket-milter_$(DEB_VERSION)_$(DEB_ARCH).deb"

clean:
	rm -rf build build-asan build-tsan build-analyze

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
