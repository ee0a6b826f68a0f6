# ngx_stream_hoop_module
#
#   make               build the module for Debian's nginx (build/ngx_stream_hoop_module.so)
#                      and the tools (build/tools/hoop-passwd, build/tools/hoopctl)
#   make NGINX_SRC=DIR build it against an nginx source tree (--with-compat)
#   make test          unit tests, a short fuzz run of every target, then the
#                      regression suite against a real Kafka broker and
#                      Redis started for the run
#   make fuzz          every libFuzzer target for ten minutes
#   make test-asan     the regression suite with the module built with
#                      AddressSanitizer and UBSan, loaded into Debian's nginx
#                      (tools/asan-nginx); any sanitizer report fails it
#   make run           a local Kafka, Redis and the gateway in front of them
#   make bench         the gateway against plain nginx and a direct connection
#                      (about 15 minutes; writes docs/performance.md; bench/run)
#   make codegen       regenerate src/kafka/generated from Kafka's message specs
#   make deb           the Debian package (build/deb/libnginx-mod-stream-hoop_*.deb,
#                      checked by lintian; docs/packaging.md)
#   make clean

SHELL       := /bin/bash
BUILD       := $(CURDIR)/build
MODULE      := $(BUILD)/ngx_stream_hoop_module.so
NGINX_SRC   ?=
HOOP_CFLAGS := -Wall -Wextra -Wno-unused-parameter -Werror
HOOP_LDFLAGS :=
SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer

MODULE_SRCS := config ngx_stream_hoop_module.c $(wildcard src/*/*.[ch] src/kafka/generated/*.[ch])

.PHONY: all module tools deps test unit fuzz-smoke fuzz prove run stop codegen deb clean \
        module-asan test-asan bench

all: module tools

deps:
	@tools/install-deps

module: deps $(MODULE)

# the audit script, embedded in the module as a C string (tools/embed-lua;
# test/unit checks that the two agree)
src/audit/hoop_audit_lua.h: src/audit/hoop_audit.lua tools/embed-lua
	tools/embed-lua audit && touch $@

# the approvals script, likewise (docs/approvals.md)
src/approval/hoop_approval_lua.h: src/approval/hoop_approval.lua tools/embed-lua
	tools/embed-lua approval && touch $@

# hoop-passwd and the other command-line tools, into build/tools
tools: deps
	$(MAKE) -s -C tools

ifeq ($(NGINX_SRC),)
# Debian's nginx-dev: configure a copy of /usr/share/nginx/src with the same
# flags as the packaged binary, then build only our target (nginx-dev ships
# headers, not the objects `make modules` would relink).
# configure again when the list of source files changes
SOURCES_LIST := $(shell mkdir -p $(BUILD); ls ngx_stream_hoop_module.c src/*/*.[ch] src/kafka/generated/*.[ch] 2>/dev/null > $(BUILD)/sources.new; \
    cmp -s $(BUILD)/sources.new $(BUILD)/sources || cp $(BUILD)/sources.new $(BUILD)/sources; echo $(BUILD)/sources)

$(BUILD)/nginx-src/objs/Makefile: config $(SOURCES_LIST)
	rm -rf $(BUILD)/nginx-src && mkdir -p $(BUILD)
	cp -r /usr/share/nginx/src $(BUILD)/nginx-src
	cd $(BUILD)/nginx-src && source ./conf_flags && ./configure \
	    "$${NGX_CONF_FLAGS[@]}" --with-stream=dynamic \
	    --with-stream_ssl_module --with-stream_ssl_preread_module \
	    --with-stream_realip_module \
	    --with-cc-opt="$$(dpkg-buildflags --get CFLAGS) -fPIC $(HOOP_CFLAGS)" \
	    --with-ld-opt="$$(dpkg-buildflags --get LDFLAGS) $(HOOP_LDFLAGS)" \
	    --add-dynamic-module=$(CURDIR) >$(BUILD)/configure.log

$(MODULE): $(BUILD)/nginx-src/objs/Makefile $(MODULE_SRCS)
	$(MAKE) -s -C $(BUILD)/nginx-src -f objs/Makefile objs/ngx_stream_hoop_module.so
	@# a new file, not an overwrite: a running nginx keeps its mapped copy
	cp $(BUILD)/nginx-src/objs/ngx_stream_hoop_module.so $@.tmp && mv -f $@.tmp $@
else
# Any nginx source tree (release tarball or git checkout).
NGINX_CONFIGURE := $(if $(wildcard $(NGINX_SRC)/configure),./configure,./auto/configure)

$(MODULE): $(MODULE_SRCS)
	mkdir -p $(BUILD)
	cd $(NGINX_SRC) && $(NGINX_CONFIGURE) --with-compat --with-stream \
	    --with-stream_ssl_module --with-stream_ssl_preread_module \
	    --with-cc-opt="$(HOOP_CFLAGS)" \
	    --add-dynamic-module=$(CURDIR) >$(BUILD)/configure.log
	$(MAKE) -s -C $(NGINX_SRC) -f objs/Makefile modules
	cp $(NGINX_SRC)/objs/ngx_stream_hoop_module.so $@.tmp && mv -f $@.tmp $@
endif

# Debian's tooling (debian/, nginx-dev's dh_nginx) run on a copy of the
# sources in build/deb/src, so dpkg-buildpackage's products (written to the
# parent directory) and its build directory stay under build/deb
DEB_FILES := config ngx_stream_hoop_module.c src tools debian README.md docs \
             policy-examples
DEB_JOBS  ?= 2

deb: deps src/audit/hoop_audit_lua.h
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/src
	tar -c --exclude-vcs --exclude=__pycache__ $(DEB_FILES) | tar -x -C $(BUILD)/deb/src
	cd $(BUILD)/deb/src && dpkg-buildpackage -us -uc -b -J$(DEB_JOBS)
	lintian --fail-on error $(BUILD)/deb/*.changes
	@ls $(BUILD)/deb/*.deb

codegen:
	tools/kafka-codegen/fetch-and-generate.sh

unit:
	$(MAKE) -C test/unit check

# every libFuzzer target briefly (the test command: 3 s each, 14 targets,
# about a minute in all), or ten minutes each (make fuzz)
fuzz-smoke:
	$(MAKE) -s -C fuzz smoke SECONDS=3

fuzz:
	$(MAKE) -C fuzz smoke SECONDS=600

# the module with ASan and UBSan, in build/asan (Debian's nginx only)
module-asan: deps
	$(MAKE) -s BUILD=$(BUILD)/asan HOOP_CFLAGS="$(HOOP_CFLAGS) $(SAN_FLAGS)" \
	    HOOP_LDFLAGS="$(SAN_FLAGS)" $(BUILD)/asan/ngx_stream_hoop_module.so

# the regression suite against the sanitized module: Debian's nginx runs
# with the sanitizer runtimes preloaded (tools/asan-nginx), reports are
# written to build/asan/reports and fail the run
test-asan: module-asan tools
	rm -rf $(BUILD)/asan/reports && mkdir -p $(BUILD)/asan/reports
	HOOP_MODULE=$(BUILD)/asan/ngx_stream_hoop_module.so \
	    TEST_NGINX_BINARY=$(CURDIR)/tools/asan-nginx \
	    HOOP_SANITIZER_REPORTS=$(BUILD)/asan/reports \
	    tools/test-env $(if $(T),prove $(T),all); rc=$$?; \
	    if ls $(BUILD)/asan/reports/* >/dev/null 2>&1; then \
	        echo "sanitizer reports:"; head -n 60 $(BUILD)/asan/reports/*; exit 1; fi; \
	    exit $$rc

prove: module
	tools/test-env prove

test: module tools unit fuzz-smoke
	tools/test-env all

run: module tools
	tools/hoop-run start

stop:
	tools/hoop-run stop

# not part of make test: own broker, Redis and nginx; BENCH_QUICK=1 for a
# smoke run, BENCH_RUNS=N (bench/run)
bench: module tools
	bench/run

clean:
	rm -rf $(BUILD)
