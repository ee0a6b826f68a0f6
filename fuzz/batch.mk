# libFuzzer target for Kafka record batches and their codecs
# (src/kafka/hoop_record_batch.c, src/kafka/hoop_compress.c); included by
# fuzz/Makefile ("-include batch.mk").
#
#   make -C fuzz smoke-batch              a short run (SECONDS, default 20)
#   make -C fuzz smoke-batch SECONDS=600
#
# Needs libisal-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev.  Mode
# byte first (see fuzz_record_batch.c); seeds: the broker-written fixtures
# of test/unit/batches with three modes each (as they are, CRCs
# recomputed after mutation, cut short), and corpus/batch: the batches of
# real kcat and Java sessions through the gateway (t/114-fuzz-seeds.t).

BATCH_FUZZ_SRCS := $(SRC)/kafka/hoop_record_batch.c \
                   $(SRC)/kafka/hoop_compress.c
BATCH_FUZZ_DEPS := $(BATCH_FUZZ_SRCS) $(SRC)/kafka/hoop_record_batch.h \
                   $(SRC)/kafka/hoop_compress.h batch.mk
BATCH_FUZZ_LIBS := -lisal -lz -lsnappy -llz4 -lzstd
BATCH_FUZZ_HAVE := $(and $(wildcard /usr/include/isa-l/crc.h), \
                         $(wildcard /usr/include/snappy-c.h), \
                         $(wildcard /usr/include/lz4frame.h), \
                         $(wildcard /usr/include/zstd.h))

.PHONY: smoke-batch

ifneq ($(BATCH_FUZZ_HAVE),)
all: $(BUILD)/fuzz_record_batch
smoke: smoke-batch
endif

$(BUILD)/fuzz_record_batch: fuzz_record_batch.c $(BATCH_FUZZ_DEPS)
	mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -o $@ fuzz_record_batch.c $(BATCH_FUZZ_SRCS) \
	    $(BATCH_FUZZ_LIBS)

$(BUILD)/corpus-batch: batch.mk $(wildcard ../test/unit/batches/*.bin) \
                       $(wildcard corpus/batch/*)
	rm -rf $@ && mkdir -p $@
	for f in ../test/unit/batches/*.bin; do \
	    b=$$(basename $$f .bin); \
	    { printf '\000'; cat $$f; } > $@/$$b; \
	    { printf '\021'; cat $$f; } > $@/crc-$$b; \
	    { printf '\003'; head -c 200 $$f; } > $@/tail-$$b; \
	done
	for f in $(wildcard corpus/batch/*); do \
	    b=$$(basename $$f); \
	    cp $$f $@/$$b; \
	    { printf '\021'; tail -c +2 $$f; } > $@/crc-$$b; \
	done

smoke-batch: $(BUILD)/fuzz_record_batch $(BUILD)/corpus-batch
	$(BUILD)/fuzz_record_batch -max_total_time=$(SECONDS) -max_len=65536 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/corpus-batch > $(BUILD)/fuzz_record_batch.log 2>&1; \
	rc=$$?; tail -3 $(BUILD)/fuzz_record_batch.log; \
	grep -E '^stat::number_of_executed_units' \
	    $(BUILD)/fuzz_record_batch.log; \
	exit $$rc
