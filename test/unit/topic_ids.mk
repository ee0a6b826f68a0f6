# Unit tests of the topic id map (src/kafka/hoop_topic_ids.c), with
# cmocka.  Included by test/unit/Makefile ("-include topic_ids.mk");
# "check" and "check-asan" there run it with the codec tests.
#
#   make -C test/unit check-topic-ids        build with -Werror -g, run
#   make -C test/unit check-topic-ids-asan   the same under ASan/UBSan/LSan
#
# Reads the captured frames in test/unit/frames/ (missing: that test is
# skipped).

TIDS_KAFKA    := ../../src/kafka
TIDS_SRCS     := $(TIDS_KAFKA)/hoop_topic_ids.c \
                 $(TIDS_KAFKA)/hoop_kafka_walker.c \
                 $(TIDS_KAFKA)/hoop_kafka_header.c \
                 $(TIDS_KAFKA)/generated/hoop_kafka_messages.c
TIDS_DEPS     := $(TIDS_SRCS) $(TIDS_KAFKA)/hoop_topic_ids.h \
                 $(TIDS_KAFKA)/hoop_kafka_walker.h test_kafka_util.h \
                 topic_ids.mk
TIDS_CFLAGS   := -std=c99 -Wall -Wextra -Werror -Wpedantic -g \
                 -I$(TIDS_KAFKA) -I.
TIDS_OPT      ?= $(if $(OPT),$(OPT),-O1)
TIDS_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -fno-omit-frame-pointer

.PHONY: check-topic-ids check-topic-ids-asan

all: build/test_topic_ids
check: build/test_topic_ids
check-asan: build/asan/test_topic_ids

check-topic-ids: build/test_topic_ids
	@echo "== $<"; ./$< frames

check-topic-ids-asan: build/asan/test_topic_ids
	@echo "== $< (address, undefined, leak)"; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1 ./$< frames

build/test_topic_ids: test_topic_ids.c $(TIDS_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(TIDS_CFLAGS) $(TIDS_OPT) -o $@ $< $(TIDS_SRCS) -lcmocka

build/asan/test_topic_ids: test_topic_ids.c $(TIDS_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(TIDS_CFLAGS) $(TIDS_OPT) $(TIDS_SAN) -o $@ $< $(TIDS_SRCS) \
	    -lcmocka
