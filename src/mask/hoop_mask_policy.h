/*
 * hoop_mask_policy: the "masking" section of the policy document, compiled
 * into rules that select topics, callers and a direction, and the engine
 * rule set (hoop_mask.h) for one (topic, caller, direction) (nginx-free).
 *
 * The section is a list of masking rules (docs/masking.md, "Masking rules
 * in the policy"):
 *
 *   masking:
 *     - id: contact-details
 *       topics: [ { name: "customers.", match: prefix } ]
 *       principals: [ "User:*" ]
 *       except: [ "Group:support" ]        # everyone except group support
 *       direction: fetch                   # produce | fetch | both
 *       fields:
 *         - { path: "$..email", strategy: hash, key_file: /etc/hoop/k }
 *         - { part: header, header: "x-email", strategy: remove }
 *       reviewed_by: carol                 # required with except
 *       reviewed_at: 2026-11-02
 *       reason: "SEC-202"
 *
 * A rule applies to a record of topic T, for caller C, in direction D when
 * one of its topics matches T (literal, "*", prefix, or a PCRE2 regex of
 * the whole name, as grant resources), C matches one of its principals
 * ("User:NAME", "Group:NAME", "User:*") and none of its except entries,
 * and D is its direction (or it says both).  An unauthenticated caller
 * (no principal) gets every rule whose topic and direction match, and no
 * exception: masking fails closed.  All rules that apply are combined into
 * one engine set, ordered by rule id (byte order), then fields as written;
 * the engine's precedence holds inside it (the first rule selecting a
 * value wins).
 *
 * Input is the section as JSON text (what hoop_policy_reserved(p,
 * "masking") returns: the policy compiler reads YAML or JSON and keeps the
 * section as canonical JSON, object keys sorted, lists in document order,
 * so JSON Pointers into it are pointers into the document) or as a
 * jansson value.
 *
 * Plain C99 + jansson + PCRE2 (8-bit) + OpenSSL libcrypto, plus the engine
 * (hoop_mask_*.c): link with -ljansson -lpcre2-8 -lcrypto.
 */

#ifndef _HOOP_MASK_POLICY_H_INCLUDED_
#define _HOOP_MASK_POLICY_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "hoop_mask.h"


/* limits */
#define HOOP_MASK_POLICY_MAX_RULES     4096     /* masking rules */
#define HOOP_MASK_POLICY_MAX_FIELDS    HOOP_MASK_MAX_RULES   /* in all */
#define HOOP_MASK_POLICY_MAX_SETS      4096     /* distinct combinations
                                                   of rules cached */
#define HOOP_MASK_POLICY_MAX_NAME      1024     /* topic, principal */
#define HOOP_MASK_POLICY_MAX_TEXT      4096     /* description, reason */

/* hoop_mask_policy_options_t.flags */
#define HOOP_MASK_POLICY_NO_KEYS       0x1      /* do not read key files
                                                   (lint on a machine
                                                   without them): hash
                                                   fields get a dummy key
                                                   and the policy must not
                                                   mask records */


typedef enum {
    HOOP_MASK_PRODUCE = 1,             /* Produce requests: before the
                                          broker stores the records */
    HOOP_MASK_FETCH = 2                /* Fetch responses: before the
                                          consumer sees them */
} hoop_mask_direction_t;


/* a byte string (ngx_str_t's shape) */
typedef struct {
    const char                  *data;
    size_t                       len;
} hoop_mask_str_t;


typedef enum {
    HOOP_MASK_SEV_ERROR = 0,           /* the section is refused */
    HOOP_MASK_SEV_WARNING = 1
} hoop_mask_sev_t;

/*
 * One problem of the section: the same shape as hoop_policy_diag_t
 * without positions (the policy compiler adds them from path).
 *
 *   code      short stable name ("bad-path", "key-file", ...: the list is
 *             in docs/masking.md), static storage
 *   path      JSON Pointer (RFC 6901) from the document root, e.g.
 *             "/masking/2/fields/0/path" (options.base replaces
 *             "/masking")
 *   message   one sentence
 */
typedef struct {
    hoop_mask_sev_t              severity;
    const char                  *code;
    char                         path[128];
    char                         message[256];
} hoop_mask_diag_t;


/*
 *   flags    HOOP_MASK_POLICY_NO_KEYS
 *   base     JSON Pointer of the section in its document; NULL: "/masking"
 *   engine   options of every engine set (hoop_mask_options_t); zeroed:
 *            the defaults
 */
typedef struct {
    unsigned                     flags;
    const char                  *base;
    hoop_mask_options_t          engine;
} hoop_mask_policy_options_t;


/* who asks, for what: all borrowed, only for the call */
typedef struct {
    hoop_mask_str_t              topic;
    hoop_mask_str_t              principal;  /* user name without "User:";
                                                data NULL: unauthenticated
                                                (every rule applies) */
    const hoop_mask_str_t       *groups;     /* names without "Group:" */
    size_t                       ngroups;
    hoop_mask_direction_t        direction;
} hoop_mask_request_t;


typedef struct hoop_mask_policy_s  hoop_mask_policy_t;


/*
 * Compiles the masking section json[0..len) (JSON text; NULL or "null":
 * no masking rules) or section (a jansson value, borrowed).  Every
 * problem is a diagnostic: up to maxdiags are stored in diags (errors and
 * warnings in document order), *ndiags gets how many were found (may
 * exceed maxdiags; ndiags may be NULL).  Key files are read here (not
 * with HOOP_MASK_POLICY_NO_KEYS), and every field is compiled by the
 * engine, so a policy that compiles masks without errors later (but for
 * memory).  Returns the compiled section, or NULL when there is at least
 * one error (or memory ran out: code "nomem").
 */
hoop_mask_policy_t *hoop_mask_policy_compile(const char *json, size_t len,
    const hoop_mask_policy_options_t *opts, hoop_mask_diag_t *diags,
    size_t maxdiags, size_t *ndiags);

struct json_t;
hoop_mask_policy_t *hoop_mask_policy_compile_json(
    const struct json_t *section, const hoop_mask_policy_options_t *opts,
    hoop_mask_diag_t *diags, size_t maxdiags, size_t *ndiags);

/* frees the section and every engine set select() returned */
void hoop_mask_policy_free(hoop_mask_policy_t *mp);

/* masking rules, sorted by id; the id of rule i (NULL past the end) */
size_t hoop_mask_policy_rule_count(const hoop_mask_policy_t *mp);
const char *hoop_mask_policy_rule_id(const hoop_mask_policy_t *mp,
    size_t i);

/* 1 if some rule masks in direction d (for any topic, any caller): a
 * gateway without such rules never decodes record batches for it */
int hoop_mask_policy_has_direction(const hoop_mask_policy_t *mp,
    hoop_mask_direction_t d);

/*
 * The engine set for req: *set is NULL when no rule applies (forward the
 * records as they are), else a set of the fields of every rule that
 * applies (hoop_mask_rule_id(set, i) is the masking rule's id, so counts
 * can be summed per rule for the audit event).  Sets are compiled on
 * first use and cached per distinct combination of rules; they stay valid
 * until hoop_mask_policy_free().  Not reentrant (the cache and PCRE2
 * match data live in mp: one per nginx worker).  A topic regex that runs
 * out of its match budget counts as a match (fail closed: mask more).
 * Returns 0, HOOP_MASK_ENOMEM, or HOOP_MASK_ETOOBIG when more than
 * HOOP_MASK_POLICY_MAX_SETS distinct combinations were asked for (the
 * caller must then not forward the records unmasked).
 */
int hoop_mask_policy_select(hoop_mask_policy_t *mp,
    const hoop_mask_request_t *req, const hoop_mask_set_t **set);

/* "produce", "fetch"; NULL for other values */
const char *hoop_mask_direction_name(hoop_mask_direction_t d);


#endif /* _HOOP_MASK_POLICY_H_INCLUDED_ */
