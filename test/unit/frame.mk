# Unit tests of the frame reassembler (src/kafka/hoop_frame.c), with
# cmocka.  Included by test/unit/Makefile ("-include frame.mk"); "check"
# and "check-asan" there run it with the codec tests.
#
#   make -C test/unit check-frame        build with -Werror -g, run
#   make -C test/unit check-frame-asan   the same under ASan/UBSan/LSan
#
# Reads the captured frames in test/unit/frames/; malloc and realloc are
# wrapped so that a test can make one fail.

FRAME_KAFKA   := ../../src/kafka
FRAME_SRCS    := $(FRAME_KAFKA)/hoop_frame.c
FRAME_DEPS    := $(FRAME_SRCS) $(FRAME_KAFKA)/hoop_frame.h frame.mk
FRAME_CFLAGS  := -std=c99 -Wall -Wextra -Werror -Wpedantic -g \
                 -I$(FRAME_KAFKA)
FRAME_OPT     ?= $(if $(OPT),$(OPT),-O1)
FRAME_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -fno-omit-frame-pointer
FRAME_WRAP    := -Wl,--wrap=malloc,--wrap=realloc

.PHONY: check-frame check-frame-asan

all: build/test_frame
check: build/test_frame
check-asan: build/asan/test_frame

check-frame: build/test_frame
	@echo "== $<"; ./$< frames

check-frame-asan: build/asan/test_frame
	@echo "== $< (address, undefined, leak)"; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1 ./$< frames

build/test_frame: test_frame.c $(FRAME_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FRAME_CFLAGS) $(FRAME_OPT) -o $@ $< $(FRAME_SRCS) \
	    $(FRAME_WRAP) -lcmocka

build/asan/test_frame: test_frame.c $(FRAME_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FRAME_CFLAGS) $(FRAME_OPT) $(FRAME_SAN) -o $@ $< $(FRAME_SRCS) \
	    $(FRAME_WRAP) -lcmocka
