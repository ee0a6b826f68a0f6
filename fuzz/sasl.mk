# libFuzzer target for the SASL code in src/auth (credential parser, SASL
# server steps, SASL client steps); included by fuzz/Makefile
# ("-include sasl.mk").
#
#   make -C fuzz smoke-sasl              a short run (SECONDS, default 20)
#   make -C fuzz smoke-sasl SECONDS=60
#
# Needs libsasl2-dev libsasl2-modules (the SASL client) libssl-dev
# libjansson-dev; the SASL server needs only OpenSSL.  Mode byte first
# (see fuzz_auth_sasl.c): 0 credential file, 1 PLAIN, 2 SCRAM-SHA-256,
# 3 SCRAM-SHA-512, 4 client.  In later SCRAM client messages '@' is the
# server's nonce and a final ",p=!" a valid proof for alice.

SASL_FUZZ_SRCS := $(SRC)/auth/hoop_credentials.c \
                  $(SRC)/auth/hoop_sasl_server.c \
                  $(SRC)/auth/hoop_sasl_client.c
SASL_FUZZ_DEPS := $(SASL_FUZZ_SRCS) $(SASL_FUZZ_SRCS:.c=.h) sasl.mk
SASL_FUZZ_LIBS := -lsasl2 -ljansson -lcrypto
SASL_FUZZ_HAVE := $(wildcard /usr/include/sasl/sasl.h)

.PHONY: smoke-sasl

ifneq ($(SASL_FUZZ_HAVE),)
all: $(BUILD)/fuzz_auth_sasl
smoke: smoke-sasl
endif

$(BUILD)/fuzz_auth_sasl: fuzz_auth_sasl.c $(SASL_FUZZ_DEPS)
	mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -I$(SRC)/auth -o $@ fuzz_auth_sasl.c \
	    $(SASL_FUZZ_SRCS) $(SASL_FUZZ_LIBS)

$(BUILD)/corpus-sasl: sasl.mk
	rm -rf $@ && mkdir -p $@
	printf '\000# c\n{"user":"a","groups":["g"],"plain":{"kdf":"pbkdf2-sha256","iterations":1000,"salt":"AAAAAAAAAAA=","hash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}\n' \
	    > $@/cred-plain
	printf '\000{"user":"b","scram-sha-256":{"iterations":4096,"salt":"AAAAAAAAAAA=","stored_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","server_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}\n' \
	    > $@/cred-scram
	printf '\001\000alice\000alice-secret' > $@/plain-good
	printf '\001alice\000alice\000nope' > $@/plain-authzid
	printf '\002n,,n=alice,r=fyko+d2lbbFgONRv9qkxdawL\nc=biws,r=@,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=' \
	    > $@/scram256
	printf '\002n,a=alice,n=we=2Cird=3Dname,r=abc,tokenauth=false\nc=biws,r=@,x=1,p=AAAA' \
	    > $@/scram256-ext
	printf '\003n,,n=alice,r=fyko+d2lbbFgONRv9qkxdawL\nc=biws,r=@,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=' \
	    > $@/scram512
	printf '\002n,,n=alice,r=fyko+d2lbbFgONRv9qkxdawL\nc=biws,r=@,p=!' \
	    > $@/scram256-java
	printf '\002n,,n=alice,r=fyko+d2lbbFgONRv9qkxdawL\nc=biws,r=fyko+d2lbbFgONRv9qkxdawL@,p=!' \
	    > $@/scram256-librdkafka
	printf '\003n,a=alice,n=alice,r=x,tokenauth=false\nc=bixhPWFsaWNlLA==,r=x@,ext=1,p=!' \
	    > $@/scram512-librdkafka-ext
	printf '\003n,,n=mallory,r=abc\nc=biws,r=@,p=!' > $@/scram512-unknown
	printf '\004\001r=xyz,s=QSXCR+Q6sek8bf92,i=4096\nv=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=' \
	    > $@/client256
	printf '\004\000\n' > $@/client-plain

smoke-sasl: $(BUILD)/fuzz_auth_sasl $(BUILD)/corpus-sasl
	$(BUILD)/fuzz_auth_sasl -max_total_time=$(SECONDS) -max_len=8192 \
	    -print_final_stats=0 -artifact_prefix=$(BUILD)/ \
	    $(BUILD)/corpus-sasl > $(BUILD)/fuzz_auth_sasl.log 2>&1; \
	rc=$$?; tail -3 $(BUILD)/fuzz_auth_sasl.log; exit $$rc
