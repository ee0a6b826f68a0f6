/*
 * hoop_mask internals: compiled rules, per-thread scratch, and the
 * helpers the scanner, the strategies and the compiler share.
 */

#ifndef _HOOP_MASK_INT_H_INCLUDED_
#define _HOOP_MASK_INT_H_INCLUDED_


#define PCRE2_CODE_UNIT_WIDTH  8

/*
 * HMAC-SHA-256 of the hash strategy keeps SHA-256 states that have
 * absorbed the key's pads, so a hash is two compressions plus the value's,
 * on copies of a plain struct.  EVP cannot keep such a state without a
 * context dup (a malloc and free) per hash, and its init per digest cost
 * more than the digest of a short field; SHA256_Init/Update/Final are
 * OpenSSL 3's deprecated but supported low-level API for exactly this.
 */
#ifndef OPENSSL_SUPPRESS_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED
#endif

#include <pcre2.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "hoop_mask.h"


/* one step of a compiled path, after "$" */
#define HOOP_MASK_STEP_NAME    1     /* .name ['name'] */
#define HOOP_MASK_STEP_INDEX   2     /* [N] */
#define HOOP_MASK_STEP_ANY     3     /* .* [*] */

typedef struct {
    const uint8_t               *name;     /* decoded UTF-8 */
    size_t                       len;
    uint64_t                     index;
    uint8_t                      kind;
    uint8_t                      desc;     /* written with "..": any
                                              number of levels first */
} hoop_mask_step_t;


typedef struct hoop_mask_crule_s {
    char                        *id;
    hoop_mask_part_t             part;
    hoop_mask_strategy_t         strategy;
    unsigned                     whole:1;  /* no path: the whole payload */
    unsigned                     nsteps;   /* steps after "$"; the state
                                              bit nsteps means selected */
    hoop_mask_step_t            *steps;
    uint8_t                     *header;
    size_t                       header_len;

    pcre2_code                  *re;       /* NULL: a whole-value rule */
    uint32_t                     re_group; /* "mask" group, 0: all */

    uint8_t                     *repl;     /* REDACT: raw text */
    size_t                       repl_len;
    uint8_t                     *repl_json;  /* REDACT: as a JSON string */
    size_t                       repl_json_len;

    unsigned                     n;        /* KEEP_* */
    uint8_t                      mask_char[4];
    size_t                       mask_char_len;

    SHA256_CTX                   istate;   /* HASH: SHA-256 after the
                                              key ^ 0x36 block, and after
                                              key ^ 0x5c (RFC 2104) */
    SHA256_CTX                   ostate;
    unsigned                     hash_chars;
} hoop_mask_crule_t;


/* the rules that apply to one part (value, key, one header name) */
typedef struct {
    const uint8_t               *name;     /* header name; NULL otherwise */
    size_t                       name_len;
    uint32_t                    *idx;      /* rule indexes, set order */
    uint32_t                     n;
    int32_t                      raw;      /* the first rule without path
                                              or regex (it takes the whole
                                              payload as bytes), -1: none */
    uint32_t                     nraw_regex;  /* regex rules without path */
} hoop_mask_list_t;


struct hoop_mask_set_s {
    hoop_mask_crule_t           *rules;
    size_t                       nrules;
    hoop_mask_list_t             value;
    hoop_mask_list_t             key;
    hoop_mask_list_t            *headers;  /* one per distinct name */
    size_t                       nheaders;
    EVP_MD                      *sha256;   /* fetched once */
    unsigned                     max_depth;
    uint32_t                     match_limit;
    size_t                       max_output;
    uint32_t                     max_pairs;  /* ovector pairs needed */
};


/* a growable byte buffer (the output, and scratch texts) */
typedef struct {
    uint8_t                     *p;
    size_t                       len;
    size_t                       cap;
} hoop_mask_buf_t;


/* one open array or object while scanning */
typedef struct {
    size_t                       kept_end;   /* input offset after the
                                                last value kept (or the
                                                last removed after one) */
    uint32_t                     index;      /* next element's index */
    int32_t                      keep_rule;  /* >= 0: KEEP_* of a
                                                container: every scalar
                                                inside */
    uint8_t                      type;       /* '{' or '[' */
    uint8_t                      kept;       /* a member kept so far */
    uint8_t                      drop_comma; /* only removed members so
                                                far: drop the next ',' */
    uint8_t                      live;       /* rules may still select
                                                something inside */
    uint8_t                      inh_any;    /* regex rules apply inside
                                                (regex row of its level) */
} hoop_mask_frame_t;


/* a regex match to replace, in the text being masked */
typedef struct {
    size_t                       start;
    size_t                       end;
    const struct hoop_mask_crule_s  *rule;
    uint32_t                     k;        /* the rule's index in the list */
    uint8_t                      first;    /* the first piece of a match */
} hoop_mask_span_t;


struct hoop_mask_scratch_s {
    uint64_t                    *states;   /* (depth + 1) rows of nrules */
    size_t                       states_cap;
    uint64_t                    *inherit;  /* (depth + 1) rows of regex
                                              rule bits */
    size_t                       inherit_cap;
    hoop_mask_frame_t           *frames;
    size_t                       frames_cap;
    uint32_t                    *counts;   /* of this call, added to the
                                              caller's on success */
    size_t                       counts_cap;
    hoop_mask_buf_t              key;      /* a decoded member name */
    hoop_mask_buf_t              text;     /* a decoded value */
    hoop_mask_buf_t              work[2];  /* regex results, canonical
                                              text, masked text */
    hoop_mask_span_t            *spans[2]; /* sorted, disjoint */
    size_t                       spans_cap[2];
    size_t                       nspans;   /* in spans[cur] */
    int                          cur;
    size_t                       limit;    /* max_output of the set */
    int                          too_big;  /* a buffer hit the limit */
    pcre2_match_data            *md;
    uint32_t                     md_pairs;
    pcre2_match_context         *mctx;
    uint32_t                     mctx_limit;
};


/* hoop_mask_out.c */
int hoop_mask_buf_reserve(hoop_mask_out_t *out, hoop_mask_buf_t *b,
    size_t more);
int hoop_mask_buf_add(hoop_mask_out_t *out, hoop_mask_buf_t *b,
    const uint8_t *p, size_t n);
int hoop_mask_scratch_prepare(const hoop_mask_set_t *set,
    hoop_mask_out_t *out, size_t nrules);
int hoop_mask_spans_grow(hoop_mask_out_t *out, int which, size_t need);

/* hoop_mask_utf8.c */
int hoop_mask_utf8_valid(const uint8_t *p, size_t n);
size_t hoop_mask_utf8_next(const uint8_t *p, size_t n);
size_t hoop_mask_utf8_count(const uint8_t *p, size_t n);
int hoop_mask_json_unescape(hoop_mask_out_t *out, hoop_mask_buf_t *b,
    const uint8_t *p, size_t n);
int hoop_mask_json_escape(hoop_mask_out_t *out, hoop_mask_buf_t *b,
    const uint8_t *p, size_t n);
size_t hoop_mask_json_string_end(const uint8_t *in, size_t len, size_t pos,
    int *escaped);
size_t hoop_mask_json_number_end(const uint8_t *in, size_t len, size_t pos);

/* hoop_mask_strategy.c */
typedef struct hoop_mask_run_s  hoop_mask_run_t;

int hoop_mask_keep(hoop_mask_out_t *out, const hoop_mask_crule_t *r,
    hoop_mask_buf_t *b, const uint8_t *p, size_t n);
int hoop_mask_hash_hex(const hoop_mask_set_t *set, hoop_mask_out_t *out,
    const hoop_mask_crule_t *r, const uint8_t *p, size_t n, char *hex);
int hoop_mask_regex_collect(hoop_mask_out_t *out,
    const hoop_mask_crule_t *r, uint32_t k, const uint8_t *p, size_t n);
int hoop_mask_regex_write(const hoop_mask_set_t *set, hoop_mask_out_t *out,
    const uint8_t *p, size_t n, hoop_mask_buf_t *res, uint32_t *counts);
int hoop_mask_replace_text(const hoop_mask_set_t *set, hoop_mask_out_t *out,
    const hoop_mask_crule_t *r, const uint8_t *p, size_t n,
    hoop_mask_buf_t *b);

/* hoop_mask_scan.c */
int hoop_mask_run(const hoop_mask_set_t *set, const hoop_mask_list_t *list,
    const uint8_t *in, size_t len, hoop_mask_out_t *out, uint32_t *counts);

/* hoop_mask_path.c */
int hoop_mask_path_parse(const char *path, hoop_mask_step_t **steps,
    unsigned *nsteps, long *offset, char *msg, size_t msg_size);


#endif /* _HOOP_MASK_INT_H_INCLUDED_ */
