/*
 * Internals shared by the files of src/policy: the memory arena, the
 * document tree (YAML and JSON read into one shape, with positions), the
 * diagnostics collector, the compiled rules, the lookup index and the
 * policy object.  Not part of the API (see hoop_policy.h).
 */

#ifndef _HOOP_POLICY_INT_H_INCLUDED_
#define _HOOP_POLICY_INT_H_INCLUDED_


#define PCRE2_CODE_UNIT_WIDTH  8

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <pcre2.h>

#include "hoop_policy.h"


/* ----------------------------------------------------------------------
 * Arena: everything of a policy (or of a parsed document) is allocated
 * from one and released at once.  Allocation failures are sticky
 * (a->failed) so callers may check once at the end of a phase.
 */

typedef struct hoop_policy_blk_s  hoop_policy_blk_t;

typedef struct {
    hoop_policy_blk_t           *head;
    size_t                       used;
    size_t                       size;
    int                          failed;
} hoop_policy_arena_t;

void *hoop_policy_alloc(hoop_policy_arena_t *a, size_t n);
void *hoop_policy_calloc(hoop_policy_arena_t *a, size_t n, size_t size);
char *hoop_policy_strndup(hoop_policy_arena_t *a, const char *s, size_t n);
void hoop_policy_arena_free(hoop_policy_arena_t *a);


/* ----------------------------------------------------------------------
 * Document tree
 */

typedef enum {
    HOOP_POLICY_N_NULL = 0,
    HOOP_POLICY_N_BOOL,
    HOOP_POLICY_N_INT,
    HOOP_POLICY_N_REAL,
    HOOP_POLICY_N_STR,
    HOOP_POLICY_N_SEQ,
    HOOP_POLICY_N_MAP
} hoop_policy_ntype_t;

typedef struct hoop_policy_node_s  hoop_policy_node_t;

/*
 * str/len: the value of a string, the source text of other scalars.
 * A map has n keys (string nodes, with their own positions) and n values
 * (items); a sequence has n items.
 */
struct hoop_policy_node_s {
    hoop_policy_ntype_t          type;
    unsigned                     line;
    unsigned                     column;
    const char                  *str;
    size_t                       len;
    int64_t                      ival;
    double                       rval;
    int                          bval;
    size_t                       n;
    hoop_policy_node_t         **items;
    hoop_policy_node_t         **keys;
};


/* ----------------------------------------------------------------------
 * Diagnostics collector
 */

typedef struct {
    hoop_policy_diag_t          *diags;
    size_t                       max;
    size_t                       n;          /* found, may exceed max */
    size_t                       nerrors;
} hoop_policy_diags_t;

void hoop_policy_diag(hoop_policy_diags_t *d, hoop_policy_sev_t sev,
    const char *code, unsigned line, unsigned column, const char *path,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;
#define hoop_policy_error(d, code, node, path, ...)                           \
    hoop_policy_diag(d, HOOP_POLICY_SEV_ERROR, code,                          \
                     (node) ? (node)->line : 0, (node) ? (node)->column : 0,  \
                     path, __VA_ARGS__)
#define hoop_policy_warn(d, code, node, path, ...)                            \
    hoop_policy_diag(d, HOOP_POLICY_SEV_WARNING, code,                        \
                     (node) ? (node)->line : 0, (node) ? (node)->column : 0,  \
                     path, __VA_ARGS__)

/* sort the stored diagnostics by position (stable) */
void hoop_policy_diags_sort(hoop_policy_diags_t *d);

/* JSON Pointer helpers: dst = base + "/" + escaped(seg) or + "/" + i */
void hoop_policy_path_key(char *dst, size_t size, const char *base,
    const char *seg, size_t seglen);
void hoop_policy_path_index(char *dst, size_t size, const char *base,
    size_t i);


/* ----------------------------------------------------------------------
 * Reading a document (hoop_policy_doc.c)
 */

hoop_policy_node_t *hoop_policy_doc_parse(const char *text, size_t len,
    hoop_policy_format_t format, hoop_policy_arena_t *a,
    hoop_policy_diags_t *d);

/* "a string", "an integer", ... for messages */
const char *hoop_policy_ntype_name(hoop_policy_ntype_t t);


/* ----------------------------------------------------------------------
 * Values (hoop_policy_value.c)
 */

/*
 * RFC 3339 date-time ("2026-12-31T23:59:59Z", "...+02:00", fractions
 * truncated) or, when date_ok, a full-date ("2026-12-31"; *is_date set,
 * value at 00:00:00Z).  Years 1970..9999.  0 or -1.
 */
int hoop_policy_time_parse(const char *s, size_t len, int date_ok,
    int64_t *t, int *is_date);
/* "2026-12-31T23:59:59Z" (21 bytes with NUL) or "2026-12-31" */
void hoop_policy_time_format(int64_t t, int date_only, char *buf,
    size_t size);

/*
 * "*", "10.0.0.0/8", "10.1.2.3", "2001:db8::/32", "::1".  0, or -1 with
 * a reason in err; host_bits set when the address has bits beyond the
 * prefix (an error for the caller to report).  h->text is not set.
 */
int hoop_policy_host_parse(const char *s, size_t len,
    hoop_policy_host_t *h, int *host_bits, const char **err);
/* canonical text of h, e.g. "10.0.0.0/8", "10.1.2.3", "*" */
void hoop_policy_host_format(const hoop_policy_host_t *h, char *buf,
    size_t size);
int hoop_policy_host_match(const hoop_policy_host_t *h,
    const hoop_policy_addr_t *a);

/* a valid Kafka topic name: [a-zA-Z0-9._-]{1,249}, not "." or ".." */
int hoop_policy_topic_name_valid(const char *s, size_t len);


/* ----------------------------------------------------------------------
 * Hash tables of byte strings (FNV-1a 64, open addressing)
 */

typedef struct {
    uint64_t                     hash;
    const char                  *key;        /* NULL: empty slot */
    uint32_t                     len;
    uint32_t                     first;      /* value, or list start */
    uint32_t                     count;      /* list length */
} hoop_policy_slot_t;

typedef struct {
    hoop_policy_slot_t          *slots;
    size_t                       mask;       /* size - 1; 0: no table */
    size_t                       n;
} hoop_policy_table_t;

#define HOOP_POLICY_FNV_BASIS   0xcbf29ce484222325ULL
#define HOOP_POLICY_FNV_PRIME   0x100000001b3ULL

static inline uint64_t
hoop_policy_fnv(uint64_t h, const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char) s[i];
        h *= HOOP_POLICY_FNV_PRIME;
    }

    return h;
}

/* room for n keys (load <= 1/2); 0 or -1 */
int hoop_policy_table_init(hoop_policy_table_t *t, size_t n,
    hoop_policy_arena_t *a);
/* the slot of key (hash h), or NULL */
const hoop_policy_slot_t *hoop_policy_table_get(
    const hoop_policy_table_t *t, uint64_t h, const char *key, size_t len);
/* the slot of key, new (key NULL) or existing; NULL when full */
hoop_policy_slot_t *hoop_policy_table_put(hoop_policy_table_t *t,
    uint64_t h, const char *key, size_t len);


/* ----------------------------------------------------------------------
 * Compiled rules and the index
 */

typedef struct {
    hoop_policy_rule_t           pub;
    uint32_t                     index;      /* rank by id in its kind */
    uint32_t                     docpos;     /* position in its list */
    unsigned                     any_user;   /* lists "User:*" */
    uint32_t                    *pids;       /* principal ids */
    uint32_t                     npids;
    pcre2_code                 **regex;      /* per resource, or NULL */
    unsigned                    *jit;        /* per resource: JIT ok */
} hoop_policy_irule_t;

typedef struct {
    uint32_t                     rule;
    const hoop_policy_resource_t *res;
    pcre2_code                  *re;
    unsigned                     jit;
} hoop_policy_entry_t;

/*
 * Rules that apply to many names (literal "*", regex) are also bucketed
 * by principal, so a check looks only at the caller's: per principal id
 * a run (first, count) of items, plus the run of "User:*" rules.  Items
 * are rule indices (wildcards) or entry indices (regexes), ascending.
 */
typedef struct {
    uint32_t                    *first;      /* nprincipals + 1 */
    uint32_t                    *items;
    uint32_t                     any_first;
    uint32_t                     any_count;
} hoop_policy_bucket_t;

/*
 * Per (kind, resource type): literal names and prefixes in hash tables
 * whose values are runs of rule indices (ascending) in lists; the
 * distinct prefix lengths ascending; literal "*" rules; regex entries;
 * the same two by principal; and every entry of the type (for
 * hoop_policy_check_any()).
 */
typedef struct {
    hoop_policy_table_t          literal;
    hoop_policy_table_t          prefix;
    uint32_t                    *lists;
    uint32_t                    *plens;
    size_t                       nplens;
    uint32_t                    *wild;
    size_t                       nwild;
    hoop_policy_entry_t         *rx;
    size_t                       nrx;
    hoop_policy_bucket_t         wild_by;
    hoop_policy_bucket_t         rx_by;
    hoop_policy_entry_t         *all;
    size_t                       nall;
} hoop_policy_index_t;

/* principal table keys: one type byte then the name */
#define HOOP_POLICY_PKEY_USER    'U'
#define HOOP_POLICY_PKEY_GROUP   'G'

struct hoop_policy_s {
    hoop_policy_arena_t          arena;
    const char                  *description;

    hoop_policy_irule_t         *rules[2];   /* by kind, sorted by id */
    size_t                       nrules[2];

    hoop_policy_index_t          index[2][HOOP_POLICY_RES_LIMIT];

    hoop_policy_table_t          principals; /* key: type byte + name */
    size_t                       nprincipals;

    /* scratch of hoop_policy_check(): see the header on threads */
    uint32_t                    *marks;      /* per principal id */
    uint32_t                    *epoch;
    uint32_t                    *matched;    /* ids marked, this check */
    pcre2_match_data            *md;
    pcre2_match_context         *mctx;

    pcre2_code                 **codes;      /* every regex, to free */
    size_t                       ncodes;

    const char                  *canonical;
    size_t                       canonical_len;
    unsigned char                sha256[32];
    char                         sha256_hex[65];
    const char                  *reserved_masking;
    const char                  *reserved_approvals;

    /* per resource type: the operations grants with an approval block
     * list (hoop_policy_check_approval()'s shortcut) */
    uint32_t                     approval_ops[HOOP_POLICY_RES_LIMIT];
};

/* PCRE2 options of every regex: anchored at both ends */
#define HOOP_POLICY_PCRE2_OPTIONS  (PCRE2_ANCHORED | PCRE2_ENDANCHORED \
                                    | PCRE2_DOLLAR_ENDONLY)

/* the state of one compilation (hoop_policy_compile.c) */
typedef struct {
    hoop_policy_t               *p;
    hoop_policy_arena_t         *a;
    hoop_policy_diags_t         *d;
    int64_t                      now;
    int64_t                      warn_secs;
    const hoop_policy_node_t    *masking;
    const hoop_policy_node_t    *approvals;
    hoop_policy_section_pt       masking_fn;  /* options.masking */
    void                        *masking_ctx;
    size_t                       budget;     /* overlap comparisons left */
    unsigned                     per_grant;  /* overlap warnings left for
                                                the current grant */
} hoop_policy_cc_t;

/* pairs of grants compared for overlap warnings before giving up */
#define HOOP_POLICY_OVERLAP_BUDGET  (20 * 1000 * 1000)
/* overlap warnings of one grant (the first covering grants found) */
#define HOOP_POLICY_OVERLAP_WARNINGS  3

#define HOOP_POLICY_DAY            86400

/* hoop_policy_lint.c: whole-policy checks; 0, or -1 out of memory */
int hoop_policy_lint_ids(hoop_policy_cc_t *cc);
void hoop_policy_lint_times(hoop_policy_cc_t *cc);
int hoop_policy_lint_overlaps(hoop_policy_cc_t *cc);

/* hoop_policy_index.c: build p->index and p->principals; 0 or -1 */
int hoop_policy_index_build(hoop_policy_t *p);

/* hoop_policy_canon.c: p->canonical, hashes; 0 or -1 */
int hoop_policy_canon_build(hoop_policy_t *p,
    const hoop_policy_node_t *masking, const hoop_policy_node_t *approvals);

/* a document subtree as compact JSON, object keys sorted (what
 * hoop_policy_reserved() returns), malloc()ed; NULL: out of memory */
char *hoop_policy_canon_text(const hoop_policy_node_t *n, size_t *len);

/* what Kafka's handlers ask for on a type (supported + cluster DELETE) */
uint32_t hoop_policy_res_checked_ops(hoop_policy_res_t type);

/* the operations a grant of bit op implies (Kafka's IMPLIES_* sets) */
uint32_t hoop_policy_allow_mask(hoop_policy_op_t op);


#endif /* _HOOP_POLICY_INT_H_INCLUDED_ */
