/*
 * hoop_mask: masking of fields in Kafka record values, keys and headers
 * (nginx-free).
 *
 * A rule set is compiled once from plain C descriptions (hoop_mask_rule_t)
 * and then applied to every record of a Produce request or Fetch response:
 *
 *   hoop_mask_apply()   a record value or key: a JSON document scanned in
 *                       one pass, or any other bytes (whole-payload rules)
 *   hoop_mask_header()  one record header (name, value)
 *
 * Both answer HOOP_MASK_UNCHANGED when nothing was masked: the caller then
 * keeps the original bytes, byte for byte.  Only HOOP_MASK_CHANGED output
 * is written, into a growable buffer (hoop_mask_out_t) reused across calls.
 *
 * Selectors (hoop_mask_rule_t.path, .regex, .header):
 *
 *   path     a JSONPath (RFC 9535 subset) into a JSON document:
 *              $               the whole document (its root value)
 *              .name ['name']  an object member ("name" and 'name' take
 *                              JSON-style escapes, \uXXXX included;
 *                              member names are compared decoded)
 *              [N]             array element N (0-based, from the start)
 *              .* [*]          every member or element
 *              ..name ..* ..[N]  the same at any depth below (descendants)
 *            e.g. $.a.b, $.a[0], $.cards[*].number, $.*.ssn, $..email.
 *   no path  the whole payload as bytes, JSON or not: REDACT writes the
 *            replacement bytes, HASH the hex digest, KEEP_* masks the
 *            text; for a header rule REMOVE drops the header and NULL
 *            makes its value null.  With a regex: a JSON payload's
 *            strings and numbers (as "$" with that regex), or the bytes
 *            of any other payload.
 *   regex    PCRE2 pattern (UTF, invalid UTF-8 tolerated, JIT).  Applied
 *            to the text of every string and number at or below the
 *            selected values (strings decoded).  Every non-empty match (or
 *            the part matched by a group named "mask", when the pattern
 *            has one) is replaced by the strategy applied to the matched
 *            text (REMOVE deletes it).  All regex rules on a value look at
 *            its original text; a character matched by several is masked
 *            by the first of them in set order (a later match keeps the
 *            parts no earlier match took), so no rule ever sees another's
 *            output and output grows linearly.
 *   header   HOOP_MASK_HEADER rules: the header name (exact bytes); path
 *            and regex then apply to the header's value.
 *
 * Strategies (hoop_mask_strategy_t), on a value a path selects:
 *
 *              string        number, true,      object, array
 *                            false, null
 *   REDACT     "***"         "***"              "***"
 *   KEEP_*     masked        its JSON text      every scalar inside
 *              code points   masked, a string   masked, names kept
 *   HASH       hex HMAC of   hex HMAC of its    hex HMAC of its
 *              decoded UTF-8 text as written    canonical text (below)
 *   REMOVE     the object member or array element is removed
 *   NULL       null          null               null
 *
 *   KEEP_FIRST/KEEP_LAST keep n code points and replace every other code
 *   point by mask_char, one for one; a text of n code points or fewer is
 *   masked whole (keep_last 4 never reveals a 4-digit PIN).  HASH is
 *   HMAC-SHA-256 (RFC 2104) with the rule's key, lowercase hex, optionally
 *   truncated, so equal values give equal digests and joins still work;
 *   the canonical text of a container is its JSON without insignificant
 *   whitespace, strings re-escaped as this engine writes them, numbers as
 *   written.  Masked values are written as JSON strings: '"' and '\'
 *   escaped, \b \f \n \r \t, other control characters \u00xx, UTF-8 as
 *   is.  Regexes apply to strings and numbers only (a number whose text
 *   changes becomes a string).
 *
 * Precedence.  When several rules select the same value, the first in the
 * set's order wins; a value selected by a whole-value rule (no regex) is
 * replaced whole and nothing inside it is looked at (the outermost
 * selection wins; a rule without path or regex takes the whole payload
 * before any path is looked at).  Regex rules apply to the strings and
 * numbers no whole-value rule covers.  Array indexes count the input's
 * elements, removed ones included.
 *
 * Not JSON.  A payload that is not a single JSON text (RFC 8259; any
 * value at the top level, surrounding whitespace allowed, no BOM, UTF-8
 * only, lone surrogates refused, numbers of any size), or nests deeper
 * than max_depth arrays and objects, is not JSON: path rules do not apply
 * and it comes back UNCHANGED unless a rule without a path applies to its
 * bytes.  hoop_mask_out_t.status tells which.  Empty payloads are never
 * changed.
 *
 * Counts.  hoop_mask_apply() and hoop_mask_header() add to counts[i] (i
 * the rule's index in the set) the number of values rule i masked: one
 * per selected value for whole-value rules (a container counts once, and
 * so does a value that already looked masked), one per match for regex
 * rules.  Counts of a payload that turns out not to be JSON are dropped
 * with its output.
 *
 * Memory and threads.  A compiled set is read-only after
 * hoop_mask_compile() and may be shared by threads; all scratch space of
 * a call lives in the hoop_mask_out_t, one per thread (an nginx worker
 * keeps one).  Steady state: no allocation per call, once the buffers
 * have grown to the largest record seen (PCRE2 match data and the digest
 * context come from their libraries' allocators, once).  A call never
 * builds more than max_output bytes (HOOP_MASK_ETOOBIG).
 *
 * Plain C99 + PCRE2 (8-bit) + OpenSSL libcrypto: link with -lpcre2-8
 * -lcrypto.
 */

#ifndef _HOOP_MASK_H_INCLUDED_
#define _HOOP_MASK_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* results of hoop_mask_apply() and hoop_mask_header() */
#define HOOP_MASK_UNCHANGED       0   /* keep the original bytes */
#define HOOP_MASK_CHANGED         1   /* out->data[0..out->len) replaces them */
#define HOOP_MASK_DROP_HEADER     2   /* header: leave the header out */
#define HOOP_MASK_NULL_HEADER     3   /* header: its value becomes null */
#define HOOP_MASK_ENOMEM         -1   /* allocation failed */
#define HOOP_MASK_EREGEX         -2   /* a regex could not finish (match
                                         limit): fail closed, do not pass
                                         the original on; out->error says
                                         which rule */
#define HOOP_MASK_ECRYPTO        -3   /* OpenSSL failed */
#define HOOP_MASK_ETOOBIG        -4   /* the masked payload would exceed
                                         max_output: fail closed */

/* hoop_mask_out_t.status: what the last payload was */
#define HOOP_MASK_JSON            0
#define HOOP_MASK_NOT_JSON        1
#define HOOP_MASK_TOO_DEEP        2   /* JSON nested deeper than max_depth:
                                         treated as not JSON */
#define HOOP_MASK_UNSCANNED       3   /* no rule needed to look inside (no
                                         rule for the part, or a rule for
                                         the whole payload's bytes) */

/* limits enforced by hoop_mask_compile() */
#define HOOP_MASK_MAX_RULES       4096
#define HOOP_MASK_MAX_STEPS       62     /* path steps after "$" */
#define HOOP_MASK_MAX_PATH        1024   /* bytes of a path */
#define HOOP_MASK_MAX_TEXT        1024   /* bytes of a replacement, header
                                            name, id */
#define HOOP_MASK_MAX_REGEX       4096   /* bytes of a pattern */
#define HOOP_MASK_MAX_KEEP        65535  /* n of KEEP_FIRST / KEEP_LAST */
#define HOOP_MASK_MIN_KEY         16     /* bytes of a HASH key */
#define HOOP_MASK_MAX_KEY         1024
#define HOOP_MASK_DEFAULT_DEPTH   128    /* arrays and objects nested */
#define HOOP_MASK_MAX_DEPTH       4096
#define HOOP_MASK_DEFAULT_MATCH_LIMIT  100000   /* PCRE2 match limit */
#define HOOP_MASK_DEFAULT_MAX_OUTPUT   (64 * 1024 * 1024)   /* bytes */


/* which part of a record a rule looks at */
typedef enum {
    HOOP_MASK_VALUE = 0,
    HOOP_MASK_KEY,
    HOOP_MASK_HEADER
} hoop_mask_part_t;

typedef enum {
    HOOP_MASK_REDACT = 0,       /* replacement, default "***" */
    HOOP_MASK_KEEP_FIRST,       /* n, mask_char (default "*") */
    HOOP_MASK_KEEP_LAST,        /* n, mask_char */
    HOOP_MASK_HASH,             /* key, key_len, hash_chars */
    HOOP_MASK_REMOVE,           /* a member or element path; a header
                                   rule without path drops the header;
                                   with a regex, deletes the matches */
    HOOP_MASK_NULL              /* a path ("$": the JSON literal null);
                                   a header rule without path nulls the
                                   value; never with a regex */
} hoop_mask_strategy_t;


/*
 * One rule, as the caller describes it.  Strings are NUL-terminated and
 * copied by hoop_mask_compile(); unused fields must be 0 / NULL (a
 * parameter given to a strategy that has no use for it is an error, so
 * mistakes in a policy do not pass silently).
 *
 *   id          the rule's id for audit events, [A-Za-z0-9][A-Za-z0-9._-]*
 *               (as policy ids); several rules may share one
 *   part        VALUE, KEY or HEADER
 *   header      HEADER only: the header name, compared byte for byte
 *   path        JSONPath (see above) or NULL for the whole value
 *   regex       PCRE2 pattern or NULL
 *   strategy    see hoop_mask_strategy_t
 *   replacement REDACT: the text (UTF-8), NULL for "***"; written as a JSON
 *               string inside JSON, as bytes elsewhere
 *   n           KEEP_FIRST / KEEP_LAST: code points kept
 *   mask_char   KEEP_*: one character (UTF-8, not a control character),
 *               NULL for "*"
 *   key         HASH: the HMAC key, key_len bytes (16 to 1024)
 *   hash_chars  HASH: hex digits kept, 8 to 64; 0 means 64
 */
typedef struct {
    const char                  *id;
    hoop_mask_part_t             part;
    const char                  *header;
    const char                  *path;
    const char                  *regex;
    hoop_mask_strategy_t         strategy;
    const char                  *replacement;
    unsigned                     n;
    const char                  *mask_char;
    const uint8_t               *key;
    size_t                       key_len;
    unsigned                     hash_chars;
} hoop_mask_rule_t;


/* set-wide options; a zeroed struct (or NULL) means the defaults */
typedef struct {
    unsigned                     max_depth;    /* 1..HOOP_MASK_MAX_DEPTH */
    uint32_t                     match_limit;  /* PCRE2 match limit per
                                                  match attempt */
    size_t                       max_output;   /* bytes a masked payload
                                                  (or any text built for
                                                  it) may reach */
} hoop_mask_options_t;


/*
 * Why hoop_mask_compile() refused a set: rule is the index of the rule
 * concerned, field its member ("path", "regex", ...; static storage),
 * offset a byte offset into that string when it means something (-1
 * otherwise), message one sentence that says all of it:
 *   rule 2 (id "cards"), path: expected a member name or '*' after '.'
 *   at offset 8
 */
typedef struct {
    size_t                       rule;
    const char                  *field;
    long                         offset;
    char                         message[320];
} hoop_mask_error_t;


typedef struct hoop_mask_set_s      hoop_mask_set_t;
typedef struct hoop_mask_scratch_s  hoop_mask_scratch_t;


/*
 * Memory for output and scratch.  realloc(ctx, p, n) behaves like
 * realloc(3) (p NULL: allocate); free(ctx, p).  NULL members: libc.
 */
typedef struct {
    void                      *(*realloc)(void *ctx, void *p, size_t n);
    void                       (*free)(void *ctx, void *p);
    void                        *ctx;
} hoop_mask_alloc_t;


/*
 * Output and per-thread scratch, reused across calls.  After
 * HOOP_MASK_CHANGED, data[0..len) is the masked payload (or header value),
 * valid until the next call with this out.  status is set by every
 * hoop_mask_apply().  error is a sentence after HOOP_MASK_EREGEX or
 * HOOP_MASK_ECRYPTO.
 */
typedef struct {
    uint8_t                     *data;
    size_t                       len;
    size_t                       cap;
    int                          status;    /* HOOP_MASK_JSON, ... */
    char                         error[160];
    hoop_mask_alloc_t            alloc;
    hoop_mask_scratch_t         *scratch;
} hoop_mask_out_t;


/* ----------------------------------------------------------------------
 * Compiling
 */

/*
 * Compiles nrules rules (0 allowed: a set that masks nothing).  Returns
 * the set, or NULL with *err filled in (err may be NULL; out of memory:
 * field "set", message "out of memory").  Regexes are compiled (and
 * JIT-compiled) here, never per record.
 */
hoop_mask_set_t *hoop_mask_compile(const hoop_mask_rule_t *rules,
    size_t nrules, const hoop_mask_options_t *options,
    hoop_mask_error_t *err);

void hoop_mask_free(hoop_mask_set_t *set);

/* number of rules, and the id of rule i (the index counts[] uses) */
size_t hoop_mask_rule_count(const hoop_mask_set_t *set);
const char *hoop_mask_rule_id(const hoop_mask_set_t *set, size_t i);

/* 1 if the set has a rule for part (for headers: any header rule), so a
 * caller can leave records alone without looking at them */
int hoop_mask_has_part(const hoop_mask_set_t *set, hoop_mask_part_t part);

/* "redact", "keep_first", ...; NULL for an unknown value */
const char *hoop_mask_strategy_name(hoop_mask_strategy_t s);


/* ----------------------------------------------------------------------
 * Applying
 */

/* Prepares out (alloc NULL: libc); hoop_mask_out_free() releases what
 * the calls allocated. */
void hoop_mask_out_init(hoop_mask_out_t *out, const hoop_mask_alloc_t *alloc);
void hoop_mask_out_free(hoop_mask_out_t *out);

/*
 * Masks one record value (part HOOP_MASK_VALUE) or key (HOOP_MASK_KEY),
 * in[0..len), with the set's rules for that part.  Call it for non-null
 * values only: a Kafka null (tombstone) is never masked.  counts: NULL,
 * or hoop_mask_rule_count(set) counters that are added to.  Returns
 * HOOP_MASK_UNCHANGED, HOOP_MASK_CHANGED, or a negative HOOP_MASK_E*
 * (the record must then not be passed on unmasked).
 */
int hoop_mask_apply(const hoop_mask_set_t *set, hoop_mask_part_t part,
    const uint8_t *in, size_t len, hoop_mask_out_t *out, uint32_t *counts);

/*
 * Masks one record header: name[0..name_len), value[0..value_len), or a
 * null value when value is NULL.  Returns HOOP_MASK_UNCHANGED,
 * HOOP_MASK_CHANGED (new value in out), HOOP_MASK_DROP_HEADER,
 * HOOP_MASK_NULL_HEADER, or a negative HOOP_MASK_E*.  Headers that no rule
 * names cost one comparison per distinct header name in the set.
 */
int hoop_mask_header(const hoop_mask_set_t *set, const uint8_t *name,
    size_t name_len, const uint8_t *value, size_t value_len,
    hoop_mask_out_t *out, uint32_t *counts);


#endif /* _HOOP_MASK_H_INCLUDED_ */
