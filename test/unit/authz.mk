# Unit tests of the authorization planner (src/kafka/hoop_kafka_authz.c),
# with cmocka.  Included by test/unit/Makefile ("-include authz.mk");
# "check" and "check-asan" there run it with the codec tests.
#
#   make -C test/unit check-authz        build with -Werror -g, run
#   make -C test/unit check-authz-asan   the same under ASan/UBSan/LSan
#
# Reads the captured frames in test/unit/frames/ (missing: that test is
# skipped).  Needs libcmocka-dev only: the planner is plain C99 over the
# codec, and only the header of src/policy (enums).

AUTHZ_KAFKA   := ../../src/kafka
AUTHZ_SRCS    := $(AUTHZ_KAFKA)/hoop_kafka_authz.c \
                 $(AUTHZ_KAFKA)/hoop_kafka_walker.c \
                 $(AUTHZ_KAFKA)/hoop_kafka_header.c \
                 $(AUTHZ_KAFKA)/generated/hoop_kafka_messages.c
AUTHZ_DEPS    := $(AUTHZ_SRCS) $(AUTHZ_KAFKA)/hoop_kafka_authz.h \
                 $(AUTHZ_KAFKA)/hoop_kafka_walker.h \
                 ../../src/policy/hoop_policy.h test_kafka_util.h authz.mk
AUTHZ_CFLAGS  := -std=c99 -Wall -Wextra -Werror -Wpedantic -g \
                 -I$(AUTHZ_KAFKA) -I.
AUTHZ_OPT     ?= $(if $(OPT),$(OPT),-O1)
AUTHZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -fno-omit-frame-pointer

.PHONY: check-authz check-authz-asan

all: build/test_kafka_authz
check: build/test_kafka_authz
check-asan: build/asan/test_kafka_authz

check-authz: build/test_kafka_authz
	@echo "== $<"; ./$< frames

check-authz-asan: build/asan/test_kafka_authz
	@echo "== $< (address, undefined, leak)"; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1 ./$< frames

build/test_kafka_authz: test_kafka_authz.c $(AUTHZ_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(AUTHZ_CFLAGS) $(AUTHZ_OPT) -o $@ $< $(AUTHZ_SRCS) -lcmocka

build/asan/test_kafka_authz: test_kafka_authz.c $(AUTHZ_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(AUTHZ_CFLAGS) $(AUTHZ_OPT) $(AUTHZ_SAN) -o $@ $< $(AUTHZ_SRCS) \
	    -lcmocka
