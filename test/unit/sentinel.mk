# Unit tests of the Redis Sentinel readers (src/redis/hoop_sentinel.c),
# with cmocka and hiredis' own reply parser.  Included by
# test/unit/Makefile ("-include sentinel.mk"); "check" and "check-asan"
# there run it with the codec tests.
#
#   make -C test/unit check-sentinel        build with -Werror -g, run
#   make -C test/unit check-sentinel-asan   the same under ASan/UBSan/LSan

SENT_REDIS    := ../../src/redis
SENT_SRCS     := $(SENT_REDIS)/hoop_sentinel.c
SENT_DEPS     := $(SENT_SRCS) $(SENT_REDIS)/hoop_sentinel.h sentinel.mk
SENT_CFLAGS   := -std=c99 -Wall -Wextra -Werror -g -I$(SENT_REDIS)
SENT_OPT      ?= $(if $(OPT),$(OPT),-O1)
SENT_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -fno-omit-frame-pointer

.PHONY: check-sentinel check-sentinel-asan

all: build/test_sentinel
check: build/test_sentinel
check-asan: build/asan/test_sentinel

check-sentinel: build/test_sentinel
	@echo "== $<"; ./$<

check-sentinel-asan: build/asan/test_sentinel
	@echo "== $< (address, undefined, leak)"; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1 ./$<

build/test_sentinel: test_sentinel.c $(SENT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(SENT_CFLAGS) $(SENT_OPT) -o $@ $< $(SENT_SRCS) -lcmocka -lhiredis

build/asan/test_sentinel: test_sentinel.c $(SENT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(SENT_CFLAGS) $(SENT_OPT) $(SENT_SAN) -o $@ $< $(SENT_SRCS) \
	    -lcmocka -lhiredis
