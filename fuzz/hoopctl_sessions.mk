# libFuzzer target for what hoopctl sessions decodes: payloads (base64),
# session stream entries as timeline lines, session hashes as list rows
# (tools/hoopctl/hoopctl_session_view.c; see fuzz_hoopctl_sessions.c).
# Included by fuzz/Makefile ("-include hoopctl_sessions.mk").
#
#   make -C fuzz smoke-hoopctl-sessions              a short run (SECONDS)
#   make -C fuzz smoke-hoopctl-sessions SECONDS=600
#
# Needs libjansson-dev, libssl-dev, and for hoopctl's utilities the policy
# library's libyaml-dev libpcre2-dev.

HS_FUZZ_DIR  := ../tools/hoopctl
HS_FUZZ_SRCS := $(HS_FUZZ_DIR)/hoopctl_session_view.c \
                $(HS_FUZZ_DIR)/hoopctl_audit_event.c \
                $(HS_FUZZ_DIR)/hoopctl_util.c $(wildcard $(SRC)/policy/*.c) \
                $(wildcard $(SRC)/mask/*.c)
HS_FUZZ_DEPS := $(HS_FUZZ_SRCS) $(HS_FUZZ_DIR)/hoopctl.h \
                $(wildcard $(SRC)/policy/*.h) hoopctl_sessions.mk
HS_FUZZ_LIBS := -ljansson -lyaml -lpcre2-8 -lcrypto
HS_FUZZ_HAVE := $(and $(wildcard /usr/include/yaml.h), \
                      $(wildcard /usr/include/jansson.h), \
                      $(wildcard /usr/include/pcre2.h))

.PHONY: smoke-hoopctl-sessions

ifneq ($(HS_FUZZ_HAVE),)
all: $(BUILD)/fuzz_hoopctl_sessions
smoke: smoke-hoopctl-sessions
endif

$(BUILD)/fuzz_hoopctl_sessions: fuzz_hoopctl_sessions.c $(HS_FUZZ_DEPS)
	mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -I$(HS_FUZZ_DIR) -I$(SRC)/policy -I$(SRC)/mask -o $@ \
	    fuzz_hoopctl_sessions.c $(HS_FUZZ_SRCS) $(HS_FUZZ_LIBS)

# seeds: payloads (mode 0), entries (1), hashes (2)
$(BUILD)/corpus-hoopctl-sessions: hoopctl_sessions.mk
	rm -rf $@ && mkdir -p $@
	perl -e 'print "\x00AAECAwQFBgcICQoLDA0ODxAREhM="' > $@/payload
	perl -e 'print "\x00AAAAAQ=="' > $@/payload-short
	perl -e 'print join "\x00", "\x011796515200123-0", v => 1, seq => 4,' \
	    -e 'ts => 1796515200123, event => "record", api => "Produce",' \
	    -e 'api_version => 9, correlation_id => 4, dir => "request",' \
	    -e 'size => 120, checks => q([["topic","orders","write","allow"]]),' \
	    -e 'mask => q([["pii",2]]), local => "true"' > $@/entry
	perl -e 'print join "\x00", "\x011796515200200-0", ts => 1796515200200,' \
	    -e 'event => "closed", bytes_in => 300, bytes_out => 400,' \
	    -e 'requests => 3, duration_ms => 21' > $@/closed
	perl -e 'print join "\x00", "\x02gw1-s1", first => 1796515200123,' \
	    -e 'last => 1796515200200, requests => 1, responses => 1,' \
	    -e 'bytes => 180, entries => 3, record => "summary",' \
	    -e 'principal => "alice", client => "127.0.0.1:5001",' \
	    -e 'closed => 1796515200200, extra => "x"' > $@/hash

smoke-hoopctl-sessions: $(BUILD)/fuzz_hoopctl_sessions \
                        $(BUILD)/corpus-hoopctl-sessions
	$(BUILD)/fuzz_hoopctl_sessions -max_total_time=$(SECONDS) -max_len=4096 \
	    -print_final_stats=0 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/corpus-hoopctl-sessions \
	    > $(BUILD)/fuzz_hoopctl_sessions.log 2>&1; \
	rc=$$?; tail -3 $(BUILD)/fuzz_hoopctl_sessions.log; exit $$rc
