# Unit tests of the Redis side of the audit trail (docs/audit.md), with
# cmocka.  Included by test/unit/Makefile ("-include audit_redis.mk").
#
#   make -C test/unit check-audit-redis       build with -Werror, run
#   make -C test/unit check-audit-redis-asan  the same under ASan/UBSan/LSan
#   (make check / make check-asan run them too)
#
#   test_audit_lua      src/audit/hoop_audit_lua.h is the SHA1 and the bytes
#                       of src/audit/hoop_audit.lua (else: run tools/embed-lua)
#   test_hoopctl_audit  tools/hoopctl/hoopctl_audit_event.c: time arguments,
#                       events back to JSON, index fields, tail's lines
#
# Needs libcmocka-dev libjansson-dev libssl-dev, and for hoopctl's
# utilities the policy library's libyaml-dev libpcre2-dev.

AR_SRC      := ../../src
AR_HOOPCTL  := ../../tools/hoopctl
AR_HSRCS    := $(AR_HOOPCTL)/hoopctl_audit_event.c $(AR_HOOPCTL)/hoopctl_util.c \
               $(wildcard $(AR_SRC)/policy/*.c) $(wildcard $(AR_SRC)/mask/*.c)
AR_CFLAGS   := -std=c99 -Wall -Wextra -Werror -Wpedantic -g -O1 \
               -DHOOP_SRC_DIR='"$(abspath $(AR_SRC))"'
AR_LIBS     := -lcmocka -ljansson -lyaml -lpcre2-8 -lcrypto
AR_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
AR_LUA_DEPS := test_audit_lua.c $(AR_SRC)/audit/hoop_audit_lua.h \
               $(AR_SRC)/audit/hoop_audit.lua audit_redis.mk
AR_H_DEPS   := test_hoopctl_audit.c $(AR_HSRCS) $(AR_HOOPCTL)/hoopctl.h \
               $(wildcard $(AR_SRC)/policy/*.h) $(wildcard $(AR_SRC)/mask/*.h) \
               audit_redis.mk
AR_HAVE     := $(and $(wildcard /usr/include/jansson.h), \
                     $(wildcard /usr/include/yaml.h), \
                     $(wildcard /usr/include/pcre2.h))

.PHONY: check-audit-redis check-audit-redis-asan

ifneq ($(AR_HAVE),)
all: build/test_audit_lua build/test_hoopctl_audit
check: build/test_audit_lua build/test_hoopctl_audit
check-asan: build/asan/test_audit_lua build/asan/test_hoopctl_audit
else
$(warning audit_redis.mk: libjansson-dev, libyaml-dev or libpcre2-dev missing: audit tests skipped)
endif

check-audit-redis: build/test_audit_lua build/test_hoopctl_audit
	@set -e; for t in $^; do echo "== $$t"; ./$$t; done

check-audit-redis-asan: build/asan/test_audit_lua build/asan/test_hoopctl_audit
	@set -e; for t in $^; do \
	    echo "== $$t (address, undefined, leak)"; \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 ./$$t; \
	done

build/test_audit_lua: $(AR_LUA_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(AR_CFLAGS) -I$(AR_SRC)/audit -o $@ $< -lcmocka -lcrypto

build/asan/test_audit_lua: $(AR_LUA_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(AR_CFLAGS) $(AR_SAN) -I$(AR_SRC)/audit -o $@ $< -lcmocka -lcrypto

build/test_hoopctl_audit: $(AR_H_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(AR_CFLAGS) -I$(AR_HOOPCTL) -I$(AR_SRC)/policy -I$(AR_SRC)/mask \
	    -o $@ $< \
	    $(AR_HSRCS) $(AR_LIBS)

build/asan/test_hoopctl_audit: $(AR_H_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(AR_CFLAGS) $(AR_SAN) -I$(AR_HOOPCTL) -I$(AR_SRC)/policy \
	    -I$(AR_SRC)/mask -o $@ \
	    $< $(AR_HSRCS) $(AR_LIBS)
