# Unit tests of approvals without Redis (docs/approvals.md), with cmocka.
# Included by test/unit/Makefile ("-include approval.mk").
#
#   make -C test/unit check-approval       build with -Werror, run
#   make -C test/unit check-approval-asan  the same under ASan/UBSan/LSan
#   (make check / make check-asan run it too)
#
#   test_approval   the "approval" block of the policy language (src/policy),
#                   decisions that need an approval, approvers; the
#                   EVALSHA argument lists, replies, notices and Kafka
#                   answers of src/approval; src/approval/hoop_approval_lua.h
#                   is the SHA1 and the bytes of hoop_approval.lua (else:
#                   run tools/embed-lua)
#
# The script against a real Redis: t/100-approvals-redis.t.
# Needs libcmocka-dev libyaml-dev libjansson-dev libpcre2-dev libssl-dev
# libhiredis-dev.

AP_SRC      := ../../src
AP_SRCS     := $(wildcard $(AP_SRC)/policy/*.c) \
               $(AP_SRC)/approval/hoop_approval.c
AP_CFLAGS   := -std=c99 -Wall -Wextra -Werror -Wpedantic -g -O1 \
               -I$(AP_SRC)/policy -I$(AP_SRC)/approval \
               -DHOOP_SRC_DIR='"$(abspath $(AP_SRC))"'
AP_LIBS     := -lcmocka -lyaml -ljansson -lpcre2-8 -lcrypto
AP_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
AP_DEPS     := test_approval.c $(AP_SRCS) $(wildcard $(AP_SRC)/policy/*.h) \
               $(wildcard $(AP_SRC)/approval/*.h) \
               $(AP_SRC)/approval/hoop_approval.lua approval.mk
AP_HAVE     := $(and $(wildcard /usr/include/yaml.h), \
                     $(wildcard /usr/include/jansson.h), \
                     $(wildcard /usr/include/pcre2.h), \
                     $(wildcard /usr/include/hiredis/hiredis.h))

.PHONY: check-approval check-approval-asan

ifneq ($(AP_HAVE),)
all: build/test_approval
check: build/test_approval
check-asan: build/asan/test_approval
else
$(warning approval.mk: libyaml-dev, libjansson-dev, libpcre2-dev or libhiredis-dev missing: test_approval skipped)
endif

check-approval: build/test_approval
	@echo "== $<"; ./$<

check-approval-asan: build/asan/test_approval
	@echo "== $< (address, undefined, leak)"; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1 ./$<

build/test_approval: $(AP_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(AP_CFLAGS) -o $@ $< $(AP_SRCS) $(AP_LIBS)

build/asan/test_approval: $(AP_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(AP_CFLAGS) $(AP_SAN) -o $@ $< $(AP_SRCS) $(AP_LIBS)

# what the data path sends, for t/100-approvals-redis.t (not run by check)
build/approval_args: approval_args.c $(AP_SRCS) $(wildcard $(AP_SRC)/policy/*.h) \
                     $(wildcard $(AP_SRC)/approval/*.h) approval.mk
	@mkdir -p $(dir $@)
	$(CC) $(AP_CFLAGS) -o $@ $< $(AP_SRCS) -lyaml -ljansson -lpcre2-8 -lcrypto
