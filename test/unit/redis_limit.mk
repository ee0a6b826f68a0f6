# Unit tests of the bound on Redis array replies
# (src/redis/hoop_redis_limit.c), with cmocka and hiredis' own reader.
# Included by test/unit/Makefile ("-include redis_limit.mk"); "check" and
# "check-asan" there run it with the codec tests.
#
#   make -C test/unit check-redis-limit        build with -Werror -g, run
#   make -C test/unit check-redis-limit-asan   the same under ASan/UBSan/LSan

RLIM_REDIS    := ../../src/redis
RLIM_SRCS     := $(RLIM_REDIS)/hoop_redis_limit.c
RLIM_DEPS     := $(RLIM_SRCS) $(RLIM_REDIS)/hoop_redis_limit.h redis_limit.mk
RLIM_CFLAGS   := -std=c99 -Wall -Wextra -Werror -g -I$(RLIM_REDIS)
RLIM_OPT      ?= $(if $(OPT),$(OPT),-O1)
RLIM_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -fno-omit-frame-pointer

.PHONY: check-redis-limit check-redis-limit-asan

all: build/test_redis_limit
check: build/test_redis_limit
check-asan: build/asan/test_redis_limit

check-redis-limit: build/test_redis_limit
	@echo "== $<"; ./$<

check-redis-limit-asan: build/asan/test_redis_limit
	@echo "== $< (address, undefined, leak)"; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1 ./$<

build/test_redis_limit: test_redis_limit.c $(RLIM_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(RLIM_CFLAGS) $(RLIM_OPT) -o $@ $< $(RLIM_SRCS) -lcmocka -lhiredis

build/asan/test_redis_limit: test_redis_limit.c $(RLIM_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(RLIM_CFLAGS) $(RLIM_OPT) $(RLIM_SAN) -o $@ $< $(RLIM_SRCS) \
	    -lcmocka -lhiredis
