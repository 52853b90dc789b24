# mcp-broker: `make run` starts the daemon with a demo server, `make check`
# runs every test. Both install missing Debian packages first.

PREFIX	?= /usr/local
DESTDIR	?=
SANITIZE ?=

CC	?= cc
PKGS	 = libevent_core libevent_extra libcjson libsystemd
DEBS	 = gcc libc6-dev make pkg-config libevent-dev libcjson-dev \
	   libsystemd-dev check
# What the tests need beyond the build: prometheus (with promtool) checks
# and scrapes the metrics, tmux drives `mcp-brokerctl top`, groff checks
# the man pages, python3 runs the Python client's tests.
TEST_DEBS = prometheus tmux groff-base python3

ifeq ($(SANITIZE),1)
B	 = build/asan
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer
else
B	 = build
SANFLAGS =
endif

CFLAGS	?= -O2 -g
# More -D flags (make bench builds its baseline daemon with one).
DEFS	?=
CFLAGS	+= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	   -Wmissing-prototypes -Wstrict-prototypes -Iproto -Idaemon \
	   $(SANFLAGS) $(DEFS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS	+= $(SANFLAGS)
LIBS	 = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECKLIBS = $(shell pkg-config --libs check 2>/dev/null)

PROTO_SRC  = proto/frame.c proto/jsonrpc.c proto/xmalloc.c proto/client.c \
	     proto/scan.c proto/wire.c proto/escape.c
CORE_SRC   = daemon/config.c daemon/config_server.c daemon/config_http.c \
	     daemon/walk.c daemon/access.c \
	     daemon/log.c daemon/table.c daemon/route.c \
	     daemon/mcp.c daemon/clock.c daemon/child.c daemon/stream.c \
	     daemon/front.c daemon/ask.c daemon/counters.c daemon/latency.c \
	     daemon/request.c daemon/attach.c daemon/process.c \
	     daemon/mcpclient.c daemon/session.c daemon/session_relay.c \
	     daemon/task.c daemon/broker.c \
	     daemon/dispatch.c daemon/service.c daemon/workdir.c daemon/cgroup.c \
	     daemon/metrics.c daemon/proctree.c daemon/follow.c
DAEMON_SRC = daemon/main.c $(CORE_SRC) daemon/conn.c daemon/listener.c \
	     daemon/http.c daemon/http_mcp.c daemon/http_mcp_session.c \
	     daemon/http_modern.c
CTL_SRC	   = daemon/ctl.c daemon/ctl_logs.c daemon/ctl_top.c \
	     daemon/ctl_bridge.c daemon/mcp.c daemon/clock.c
DEMO_SRC   = daemon/demo_server.c

UNIT_TESTS = frame jsonrpc config table route mcp scan stream wire walk request mcpclient \
	     log session broker child workdir cgroup latency proctree config_http \
	     attach
INTEGRATION_TESTS = basic faults concurrency close ctl protocol lifecycle access systemd metrics \
		    workdir names share contain bytes paste top http logs \
		    http_mcp relay attach tasks upcall
INTEROP_TESTS = npm_servers bridge http_sdk everything_notify everything_tasks

obj	 = $(patsubst %.c,$(B)/obj/%.o,$(1))
PROTO_OBJ  = $(call obj,$(PROTO_SRC))

BINS	 = $(B)/mcp-brokerd $(B)/mcp-brokerctl $(B)/mcp-demo-server
TEST_BINS = $(patsubst %,$(B)/tests/unit/test_%,$(UNIT_TESTS)) \
	    $(patsubst %,$(B)/tests/integration/test_%,$(INTEGRATION_TESTS)) \
	    $(patsubst %,$(B)/tests/interop/test_%,$(INTEROP_TESTS)) \
	    $(B)/tests/fake-mcp

.PHONY: all deps run check check-layout check-man check-unit check-integration \
	check-interop check-python check-valgrind check-conformance fuzz \
	tests npm-deps clean install

all: $(BINS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/mcp-brokerd: $(call obj,$(DAEMON_SRC)) $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/mcp-brokerctl: $(call obj,$(CTL_SRC)) $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/mcp-demo-server: $(call obj,$(DEMO_SRC)) $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/fake-mcp: $(call obj,tests/fixtures/fake_mcp.c) $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# Unit tests link the module under test and what it needs, nothing more.
UNIT_DEPS_frame	  =
UNIT_DEPS_jsonrpc =
UNIT_DEPS_config  = daemon/config.c daemon/config_server.c daemon/walk.c \
		    daemon/config_http.c \
		    daemon/log.c daemon/workdir.c
UNIT_DEPS_config_http = daemon/config_http.c daemon/walk.c daemon/log.c
UNIT_DEPS_log	  = daemon/log.c
UNIT_DEPS_table	  = daemon/table.c
UNIT_DEPS_route	  = daemon/route.c
UNIT_DEPS_mcp	  = daemon/mcp.c daemon/log.c
UNIT_DEPS_scan	  = daemon/route.c
UNIT_DEPS_stream  = daemon/stream.c daemon/log.c
UNIT_DEPS_child	  = daemon/child.c daemon/log.c
UNIT_DEPS_walk	  = daemon/walk.c daemon/log.c
UNIT_DEPS_cgroup  = daemon/cgroup.c daemon/log.c
UNIT_DEPS_latency = daemon/latency.c
UNIT_DEPS_proctree = daemon/proctree.c daemon/clock.c daemon/log.c
UNIT_DEPS_request = daemon/request.c daemon/attach.c daemon/front.c daemon/counters.c \
		    daemon/latency.c daemon/mcp.c \
		    daemon/clock.c daemon/log.c
UNIT_DEPS_attach  = daemon/attach.c daemon/front.c daemon/counters.c \
		    daemon/log.c tests/unit/fake_front.c
UNIT_DEPS_mcpclient = daemon/mcpclient.c daemon/mcp.c daemon/log.c
UNIT_DEPS_session = daemon/session.c daemon/session_relay.c daemon/task.c \
		    daemon/ask.c daemon/request.c daemon/attach.c daemon/front.c \
		    daemon/counters.c daemon/latency.c \
		    daemon/mcpclient.c daemon/mcp.c daemon/clock.c \
		    daemon/child.c daemon/log.c tests/unit/fake_process.c \
		    tests/unit/fake_front.c daemon/workdir.c
UNIT_DEPS_workdir = $(UNIT_DEPS_config)
UNIT_DEPS_broker  = $(UNIT_DEPS_session) $(UNIT_DEPS_config) \
		    daemon/broker.c daemon/dispatch.c daemon/table.c \
		    daemon/route.c daemon/service.c daemon/metrics.c \
		    daemon/proctree.c daemon/follow.c daemon/access.c

.SECONDEXPANSION:
.SECONDARY:
$(B)/tests/unit/test_%: $(B)/obj/tests/unit/test_%.o \
    $$(call obj,$$(UNIT_DEPS_$$*)) $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(CHECKLIBS)

# Integration and interop tests drive the real daemon through the socket.
HARNESS_OBJ = $(call obj,tests/integration/harness.c)

$(B)/tests/integration/test_%: $(call obj,tests/integration/test_%.c) \
    $(HARNESS_OBJ) $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(CHECKLIBS)

$(B)/tests/interop/test_%: $(call obj,tests/interop/test_%.c) \
    $(HARNESS_OBJ) $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(CHECKLIBS)

tests: $(BINS) $(TEST_BINS)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# Install the Debian packages the build needs, only those missing.
deps:
	@missing=""; \
	for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
		    grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -qq $$missing; \
	fi

# The interop tests' MCP servers, pinned in tests/interop/package-lock.json.
# Failure is not fatal here: the interop tests then report SKIPPED loudly.
npm-deps:
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "installing Debian packages: nodejs npm"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -qq nodejs npm || true; \
	fi
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/interop && (npm ci --no-audit --no-fund --loglevel=error \
		    || echo "npm install failed: interop tests will be SKIPPED"); \
	fi

RUN_DIR	 = $(CURDIR)/build/run

# Start the daemon in the foreground with the demo config.
run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(RUN_DIR)
	@sed -e 's|@DEMO_SERVER@|$(CURDIR)/build/mcp-demo-server|' \
	    -e 's|@SOCKET@|$(RUN_DIR)/mcp-broker.sock|' \
	    conf/demo.json.in > $(RUN_DIR)/mcp-broker.json
	@echo
	@echo "mcp-brokerd is starting on $(RUN_DIR)/mcp-broker.sock"
	@echo "In another terminal, from $(CURDIR):"
	@echo "  export MCP_BROKER_SOCKET=$(RUN_DIR)/mcp-broker.sock"
	@echo "  build/mcp-brokerctl call demo t1 counter    # 1"
	@echo "  build/mcp-brokerctl call demo t1 counter    # 2: same session"
	@echo "  build/mcp-brokerctl call demo t2 counter    # 1: another thread"
	@echo "  build/mcp-brokerctl status"
	@echo "Stop it with Ctrl-C."
	@echo
	exec build/mcp-brokerd --config $(RUN_DIR)/mcp-broker.json

# Every test: unit, integration against the real daemon, interop with npm
# servers. TESTS_B tells the tests where the binaries are.
check: deps
	@$(MAKE) --no-print-directory deps DEBS="$(TEST_DEBS)"
	@$(MAKE) --no-print-directory npm-deps
	@$(MAKE) --no-print-directory tests
	@$(MAKE) --no-print-directory check-layout check-man check-unit \
	    check-integration check-interop check-python

export MCPB_BUILD = $(CURDIR)/$(B)
export MCPB_TOP = $(CURDIR)

# The shape of the code: no include cycle, no .c file over 1,000 lines.
check-layout:
	@tests/layout/check.sh

# Each man page renders with no warning at all (groff -ww), else it fails.
MAN_PAGES = daemon/mcp-brokerctl.1 conf/mcp-broker.json.5 daemon/mcp-brokerd.8

check-man:
	@set -e; for m in $(MAN_PAGES); do \
		out=$$(groff -man -ww -z $$m 2>&1) || { echo "$$m: groff" \
		    "failed"; echo "$$out"; exit 1; }; \
		if [ -n "$$out" ]; then echo "$$m: groff warns:"; \
		    echo "$$out"; exit 1; fi; \
	done; echo "man pages: $(MAN_PAGES) render without warnings"

check-unit: tests
	@set -e; for t in $(UNIT_TESTS); do $(B)/tests/unit/test_$$t; done

check-integration: tests
	@set -e; for t in $(INTEGRATION_TESTS); do \
		$(B)/tests/integration/test_$$t; done

check-interop: tests
	@set -e; for t in $(INTEROP_TESTS); do $(B)/tests/interop/test_$$t; done

# The Python client (proto/python) against the real daemon.
check-python: tests
	@python3 -m unittest discover -s tests/python -v

# MCP's own tools against the broker (tests/conformance/run.sh): the
# Inspector CLI through the stdio bridge, and the conformance suite's
# server scenarios. Not part of check: it installs Node 22 and the tools
# from the npm registry (pinned in tests/conformance/package-lock.json).
check-conformance: deps
	@$(MAKE) --no-print-directory npm-deps
	@$(MAKE) --no-print-directory $(BINS) $(B)/tests/fake-mcp
	@command -v npm >/dev/null 2>&1 || { echo "check-conformance:" \
	    "npm is missing (make npm-deps installs it)"; exit 1; }
	@[ tests/conformance/node_modules/.package-lock.json -nt \
	    tests/conformance/package-lock.json ] || { cd tests/conformance && \
	    npm ci --no-audit --no-fund --loglevel=error; }
	@tests/conformance/run.sh

# The integration suite with the daemon under valgrind memcheck: any error
# or leak makes the daemon exit 99 and the test that stopped it fail.
check-valgrind: deps
	@command -v valgrind >/dev/null 2>&1 || { apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind; }
	@$(MAKE) --no-print-directory tests
	@set -e; for t in $(INTEGRATION_TESTS); do \
		MCPB_VALGRIND=1 $(B)/tests/integration/test_$$t; done

# libFuzzer targets (clang): what a client's bytes reach before routing,
# what a child's bytes reach, and what an HTTP client's bytes reach
# (libevent's parser, then the broker's glue). Each runs FUZZ_SECONDS from its seed
# corpus in tests/fuzz/corpus/ (new finds go to build/fuzz/, not the tree).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = client child http
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Iproto -Idaemon \
	      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	      $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_SRC_client = tests/fuzz/fuzz_client.c proto/frame.c proto/jsonrpc.c \
		  proto/xmalloc.c proto/scan.c proto/wire.c proto/escape.c \
		  daemon/route.c
FUZZ_SRC_http	= tests/fuzz/fuzz_http.c proto/frame.c proto/jsonrpc.c \
		  proto/xmalloc.c proto/scan.c proto/wire.c proto/escape.c \
		  daemon/route.c daemon/config_http.c daemon/walk.c \
		  daemon/log.c
FUZZ_SRC_child	= tests/fuzz/fuzz_child.c proto/frame.c proto/jsonrpc.c \
		  proto/xmalloc.c proto/scan.c proto/wire.c proto/escape.c \
		  daemon/mcp.c daemon/log.c daemon/request.c daemon/attach.c \
		  daemon/front.c daemon/counters.c daemon/latency.c \
		  daemon/clock.c daemon/task.c daemon/ask.c

build/fuzz/fuzz_%: $$(FUZZ_SRC_$$*)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRC_$*) $(LIBS)

fuzz: deps
	@command -v clang >/dev/null 2>&1 || { apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang; }
	@$(MAKE) --no-print-directory $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus-$$t; \
		echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
		build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
		    -print_final_stats=1 -artifact_prefix=build/fuzz/$$t- \
		    build/fuzz/corpus-$$t tests/fuzz/corpus/$$t \
		    >build/fuzz/$$t.log 2>&1 || \
		    { tail -n 60 build/fuzz/$$t.log; exit 1; }; \
		grep -E '^(stat::number_of_executed_units|Done)' \
		    build/fuzz/$$t.log; \
	done

# Where make install puts things (systemd searches $(PREFIX)/lib/systemd).
BINDIR	    = $(PREFIX)/bin
LIBEXECDIR  = $(PREFIX)/libexec/mcp-broker
UNITDIR	    = $(PREFIX)/lib/systemd/system
MANDIR	    = $(PREFIX)/share/man
SYSUSERSDIR = $(PREFIX)/lib/sysusers.d
TMPFILESDIR = $(PREFIX)/lib/tmpfiles.d
CONFDIR	    = /etc/mcp-broker
SUBST	    = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' \
		  -e 's|/usr/local/libexec/mcp-broker|$(LIBEXECDIR)|g'

# Binaries, units, sysusers/tmpfiles snippets, and the config unless one
# exists already (an admin's edits are never overwritten).
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(CONFDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 755 build/mcp-brokerd build/mcp-brokerctl $(DESTDIR)$(BINDIR)/
	install -m 644 daemon/mcp-brokerctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 conf/mcp-broker.json.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 daemon/mcp-brokerd.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 755 build/mcp-demo-server $(DESTDIR)$(LIBEXECDIR)/
	$(SUBST) systemd/mcp-broker.service.in > \
	    $(DESTDIR)$(UNITDIR)/mcp-broker.service
	install -m 644 systemd/mcp-broker.socket $(DESTDIR)$(UNITDIR)/
	install -m 644 systemd/mcp-broker.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/mcp-broker.conf
	install -m 644 systemd/mcp-broker.tmpfiles \
	    $(DESTDIR)$(TMPFILESDIR)/mcp-broker.conf
	@if [ -e $(DESTDIR)$(CONFDIR)/mcp-broker.json ]; then \
		echo "keeping $(DESTDIR)$(CONFDIR)/mcp-broker.json"; \
	else \
		$(SUBST) conf/mcp-broker.json > \
		    $(DESTDIR)$(CONFDIR)/mcp-broker.json; \
	fi

# The benchmark (tests/bench/): the broker against the direct pipe and the
# alternatives, written to build/bench/results.md and latency.png. Not part
# of check. Installs gnuplot-nox and tests/bench's npm packages (supergateway,
# server-everything, pinned in tests/bench/package-lock.json) if missing.
.PHONY: bench bench-deps
BENCH_BINS = build/bench/echo-server build/bench/loadgen

build/bench/echo-server: build/obj/tests/bench/echo_server.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

build/bench/loadgen: build/obj/tests/bench/loadgen.o \
    $(patsubst %.c,build/obj/%.o,$(PROTO_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

bench-deps:
	@dpkg-query -W -f='$${Status}' gnuplot-nox 2>/dev/null | \
	    grep -q 'install ok installed' || { \
		echo "installing Debian packages: gnuplot-nox"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -qq gnuplot-nox; }
	@command -v npm >/dev/null 2>&1 || { \
		echo "installing Debian packages: nodejs npm"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -qq nodejs npm || true; }
	@if command -v npm >/dev/null 2>&1 && ! [ \
	    tests/bench/node_modules/.package-lock.json -nt \
	    tests/bench/package-lock.json ]; then \
		cd tests/bench && (npm ci --no-audit --no-fund --loglevel=error \
		    || echo "npm install failed: the comparisons will say NOT run"); \
	fi

# The benchmark always uses the optimised build, whatever SANITIZE says.
bench: deps
	@$(MAKE) --no-print-directory bench-deps
	@$(MAKE) --no-print-directory SANITIZE= build/mcp-brokerd $(BENCH_BINS)
	@$(MAKE) --no-print-directory SANITIZE= B=build/bench-nohist \
	    DEFS=-DMCPB_NO_HISTOGRAM build/bench-nohist/mcp-brokerd
	MCPB_BUILD=$(CURDIR)/build tests/bench/run.sh

clean:
	rm -rf build
