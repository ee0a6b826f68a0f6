# libFuzzer target for the Redis Sentinel readers (src/redis/hoop_sentinel.c);
# included by fuzz/Makefile ("-include sentinel.mk").
#
#   make -C fuzz smoke-sentinel              a short run (SECONDS)
#   make -C fuzz smoke-sentinel SECONDS=300
#
# Seeds: answers and messages of Redis 7.0's sentinels, written below.

SENT_FUZZ_SRCS := $(SRC)/redis/hoop_sentinel.c
SENT_FUZZ_DEPS := $(SENT_FUZZ_SRCS) $(SRC)/redis/hoop_sentinel.h sentinel.mk

.PHONY: smoke-sentinel

all: $(BUILD)/fuzz_sentinel
smoke: smoke-sentinel

$(BUILD)/fuzz_sentinel: fuzz_sentinel.c $(SENT_FUZZ_DEPS)
	mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -o $@ fuzz_sentinel.c $(SENT_FUZZ_SRCS) -lhiredis

$(BUILD)/corpus-sentinel: sentinel.mk
	rm -rf $@ && mkdir -p $@
	printf '*2\r\n$$9\r\n127.0.0.1\r\n$$4\r\n6379\r\n' > $@/addr
	printf '*2\r\n$$3\r\n::1\r\n$$5\r\n26379\r\n' > $@/addr6
	printf '*2\r\n$$11\r\nredis.local\r\n$$4\r\n6379\r\n' > $@/name
	printf '$$-1\r\n' > $@/nil
	printf -- '-ERR unknown command\r\n' > $@/error
	printf '*3\r\n$$6\r\nmaster\r\n:3014\r\n*1\r\n*3\r\n$$9\r\n127.0.0.1\r\n$$4\r\n6380\r\n$$4\r\n3014\r\n' > $@/role-master
	printf '*5\r\n$$5\r\nslave\r\n$$9\r\n127.0.0.1\r\n:6379\r\n$$9\r\nconnected\r\n:3014\r\n' > $@/role-replica
	printf 'mymaster 127.0.0.1 6379 127.0.0.1 6380' > $@/switch
	printf 'mymaster ::1 6379 ::1 6380' > $@/switch6

smoke-sentinel: $(BUILD)/fuzz_sentinel $(BUILD)/corpus-sentinel
	$(BUILD)/fuzz_sentinel -max_total_time=$(SECONDS) -max_len=4096 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/corpus-sentinel > $(BUILD)/fuzz_sentinel.log 2>&1; \
	rc=$$?; tail -3 $(BUILD)/fuzz_sentinel.log; \
	grep -E '^stat::number_of_executed_units' $(BUILD)/fuzz_sentinel.log; \
	exit $$rc
