# Unit tests of Kafka record batches (src/kafka/hoop_record_batch.c) and
# their compression codecs (src/kafka/hoop_compress.c), with cmocka.
# Included by test/unit/Makefile ("-include batch.mk"); "check" and
# "check-asan" there run it with the other suites.
#
#   make -C test/unit check-batch        build with -Werror -g, run
#   make -C test/unit check-batch-asan   the same under ASan/UBSan/LSan
#   make -C test/unit build/test_record_batch_tool
#                                        the CLI the fixture script and
#                                        t/086-record-batch.t use
#
# Fixtures: test/unit/batches/*.bin, records blobs written by a real
# broker (test/unit/batches/regenerate; see docs/record-batches.md).
# Needs (Debian 12): libisal-dev zlib1g-dev libsnappy-dev liblz4-dev
# libzstd-dev libcmocka-dev.

BATCH_KAFKA   := ../../src/kafka
BATCH_SRCS    := $(BATCH_KAFKA)/hoop_record_batch.c \
                 $(BATCH_KAFKA)/hoop_compress.c
BATCH_DEPS    := $(BATCH_SRCS) $(BATCH_KAFKA)/hoop_record_batch.h \
                 $(BATCH_KAFKA)/hoop_compress.h test_kafka_util.h \
                 test_record_batch_util.h batch.mk
BATCH_CFLAGS  := -std=c99 -Wall -Wextra -Werror -Wpedantic -g \
                 -I$(BATCH_KAFKA) -I.
BATCH_OPT     ?= $(if $(OPT),$(OPT),-O1)
BATCH_LIBS    := -lisal -lz -lsnappy -llz4 -lzstd
BATCH_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -fno-omit-frame-pointer
BATCH_HAVE    := $(and $(wildcard /usr/include/isa-l/crc.h), \
                       $(wildcard /usr/include/snappy-c.h), \
                       $(wildcard /usr/include/lz4frame.h), \
                       $(wildcard /usr/include/zstd.h), \
                       $(wildcard /usr/include/zlib.h))

.PHONY: check-batch check-batch-asan

ifneq ($(BATCH_HAVE),)
all: build/test_record_batch build/test_record_batch_tool
check: build/test_record_batch
check-asan: build/asan/test_record_batch
else
$(warning batch.mk: libisal-dev, libsnappy-dev, liblz4-dev, libzstd-dev or zlib1g-dev missing: test_record_batch skipped)
endif

check-batch: build/test_record_batch
	@echo "== $<"; ./$<

check-batch-asan: build/asan/test_record_batch
	@echo "== $< (address, undefined, leak)"; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1 ./$<

build/test_record_batch: test_record_batch.c $(BATCH_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(BATCH_CFLAGS) $(BATCH_OPT) -o $@ $< $(BATCH_SRCS) \
	    -lcmocka $(BATCH_LIBS)

build/asan/test_record_batch: test_record_batch.c $(BATCH_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(BATCH_CFLAGS) $(BATCH_OPT) $(BATCH_SAN) -o $@ $< $(BATCH_SRCS) \
	    -lcmocka $(BATCH_LIBS)

build/test_record_batch_tool: test_record_batch_tool.c $(BATCH_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(BATCH_CFLAGS) $(BATCH_OPT) -o $@ $< $(BATCH_SRCS) $(BATCH_LIBS)
