/*
 * hoop_policy: the access-review policy language, its compiler and its
 * evaluator (nginx-free).
 *
 * A policy is one versioned document, YAML or JSON (same model, see
 * docs/policy.md and docs/policy-schema.json): grants and denies that name
 * principals, Kafka resources (literal, prefixed or regex names), Kafka
 * operations, client hosts, a validity window and review metadata.
 * hoop_policy_compile() validates it (with line and column for every
 * problem) and builds per-process lookup structures; hoop_policy_check()
 * answers "may this caller do this operation on this resource now" with
 * the semantics of Apache Kafka's StandardAuthorizer / AclAuthorizer
 * (KIP-11 ACLs, KIP-290 prefixed ACLs, "Authorization and ACLs" in Kafka's
 * security documentation):
 *
 *   allowed  iff  some grant matches  and  no deny matches  (default deny)
 *
 *   - a grant of READ, WRITE, DELETE or ALTER also grants DESCRIBE; a grant
 *     of ALTER_CONFIGS also grants DESCRIBE_CONFIGS; ALL grants everything.
 *     Implication applies to grants only: a deny of READ does not deny
 *     DESCRIBE, a deny of DESCRIBE does not deny READ; a deny of ALL
 *     denies everything.
 *   - literal name "*" matches every resource of its type; a prefix
 *     matches every name that starts with it (the prefix itself included);
 *     regex (PCRE2, anchored at both ends) is our extension.
 *   - "User:*" matches every authenticated caller; "Group:NAME" matches a
 *     caller whose identity carries group NAME (our extension: Kafka has
 *     no groups).
 *   - hosts: "*", an IPv4/IPv6 address or a CIDR block (Kafka compares
 *     address strings only; CIDR is our extension).
 *   - a rule outside its validity window [valid_from, valid_until]
 *     (inclusive, seconds) matches nothing.
 *
 * Plain C99 + libyaml + jansson + PCRE2 (8-bit, JIT) + OpenSSL libcrypto
 * (SHA-256): link with -lyaml -ljansson -lpcre2-8 -lcrypto.
 *
 * Memory.  A compiled policy owns all it returns (rules, strings, the
 * canonical text); pointers stay valid until hoop_policy_free().  Callers
 * that keep a rule id beyond that (audit events) copy it.
 *
 * Threads.  Compiling is reentrant.  hoop_policy_check() and friends use
 * scratch space inside the policy (PCRE2 match data, principal marks) and
 * never allocate: calls on one policy must not run concurrently (nginx
 * workers are single-threaded; a threaded caller compiles one copy per
 * thread).
 */

#ifndef _HOOP_POLICY_H_INCLUDED_
#define _HOOP_POLICY_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

struct sockaddr;


/* the language version this compiler understands ("policy_version") */
#define HOOP_POLICY_LANGUAGE_VERSION   1

/* Kafka's name of the one cluster resource (Resource.CLUSTER_NAME) */
#define HOOP_POLICY_CLUSTER_NAME       "kafka-cluster"

/* limits enforced by the compiler */
#define HOOP_POLICY_MAX_TEXT           (16 * 1024 * 1024)   /* bytes */
#define HOOP_POLICY_MAX_RULES          200000
#define HOOP_POLICY_MAX_NAME           1024      /* bytes of a name */
#define HOOP_POLICY_MAX_DEPTH          64        /* nesting of the document */
#define HOOP_POLICY_MATCH_LIMIT        100000    /* PCRE2 match limit of one
                                                    regex, one check */

/* validity bounds of a rule without valid_from / valid_until */
#define HOOP_POLICY_TIME_MIN           INT64_MIN
#define HOOP_POLICY_TIME_MAX           INT64_MAX


/*
 * Resource types, with Kafka's ResourceType codes
 * (org.apache.kafka.common.resource.ResourceType).
 */
typedef enum {
    HOOP_POLICY_RES_UNKNOWN = 0,
    HOOP_POLICY_RES_TOPIC = 2,
    HOOP_POLICY_RES_GROUP = 3,
    HOOP_POLICY_RES_CLUSTER = 4,
    HOOP_POLICY_RES_TRANSACTIONAL_ID = 5,
    HOOP_POLICY_RES_DELEGATION_TOKEN = 6,
    HOOP_POLICY_RES_USER = 7
} hoop_policy_res_t;

#define HOOP_POLICY_RES_LIMIT          8         /* codes are below this */


/*
 * Operations, with Kafka's AclOperation codes
 * (org.apache.kafka.common.acl.AclOperation).  HOOP_POLICY_OP_BIT(op) is
 * the bit Kafka uses in *AuthorizedOperations fields (Utils.to32BitField).
 */
typedef enum {
    HOOP_POLICY_OP_UNKNOWN = 0,
    HOOP_POLICY_OP_ALL = 2,
    HOOP_POLICY_OP_READ = 3,
    HOOP_POLICY_OP_WRITE = 4,
    HOOP_POLICY_OP_CREATE = 5,
    HOOP_POLICY_OP_DELETE = 6,
    HOOP_POLICY_OP_ALTER = 7,
    HOOP_POLICY_OP_DESCRIBE = 8,
    HOOP_POLICY_OP_CLUSTER_ACTION = 9,
    HOOP_POLICY_OP_DESCRIBE_CONFIGS = 10,
    HOOP_POLICY_OP_ALTER_CONFIGS = 11,
    HOOP_POLICY_OP_IDEMPOTENT_WRITE = 12,
    HOOP_POLICY_OP_CREATE_TOKENS = 13,
    HOOP_POLICY_OP_DESCRIBE_TOKENS = 14,
    HOOP_POLICY_OP_TWO_PHASE_COMMIT = 15
} hoop_policy_op_t;

#define HOOP_POLICY_OP_LIMIT           16        /* codes are below this */
#define HOOP_POLICY_OP_BIT(op)         (1u << (unsigned) (op))


typedef enum {
    HOOP_POLICY_MATCH_LITERAL = 0,     /* exact; "*" = every name */
    HOOP_POLICY_MATCH_PREFIX,          /* KIP-290 PREFIXED */
    HOOP_POLICY_MATCH_REGEX            /* ours: PCRE2, whole name */
} hoop_policy_match_t;


typedef enum {
    HOOP_POLICY_GRANT = 0,
    HOOP_POLICY_DENY = 1
} hoop_policy_kind_t;


/* a byte string, not necessarily NUL-terminated (ngx_str_t's shape) */
typedef struct {
    const char                  *data;
    size_t                       len;
} hoop_policy_str_t;


/* ----------------------------------------------------------------------
 * Diagnostics
 */

typedef enum {
    HOOP_POLICY_SEV_ERROR = 0,         /* the policy is refused */
    HOOP_POLICY_SEV_WARNING = 1        /* accepted; worth a look */
} hoop_policy_sev_t;

/*
 *   line, column  1-based position of the value concerned (YAML marks,
 *                 or the JSON text; columns count characters); 0 when the
 *                 problem concerns the whole document
 *   code          short stable name ("duplicate-id", "expiring", ...;
 *                 the full list is in docs/policy.md), static storage
 *   path          JSON Pointer (RFC 6901) of the value, e.g.
 *                 "/grants/2/resources/0/name"; "" for the document
 *   message       one human-readable sentence, NUL-terminated
 */
typedef struct {
    hoop_policy_sev_t            severity;
    unsigned                     line;
    unsigned                     column;
    const char                  *code;
    char                         path[128];
    char                         message[256];
} hoop_policy_diag_t;


/* ----------------------------------------------------------------------
 * The compiled policy and its rules (read-only views)
 */

typedef struct hoop_policy_s  hoop_policy_t;

typedef struct {
    hoop_policy_res_t            type;
    hoop_policy_match_t          match;
    const char                  *name;      /* NUL-terminated */
    size_t                       name_len;
    unsigned                     line;
    unsigned                     column;
} hoop_policy_resource_t;

/* family 0 is "*" (any address); addresses are in network byte order */
typedef struct {
    int                          family;    /* 0, 4 or 6 */
    unsigned                     prefix;    /* CIDR bits: 0..32, 0..128 */
    uint8_t                      addr[16];
    const char                  *text;      /* canonical: "10.0.0.0/8" */
} hoop_policy_host_t;

/*
 * One grant or deny.  Strings are NUL-terminated; optional ones are NULL
 * when absent.  principals are canonical ("User:alice", "Group:ops",
 * "User:*"), sorted, without duplicates; resources are sorted by (type,
 * match, name); nhosts is 0 for "any host".  valid_from / valid_until are
 * seconds since the Epoch (UTC), HOOP_POLICY_TIME_MIN / _MAX when absent;
 * the window is inclusive at both ends.  reviewed_at is as written,
 * normalised ("2026-11-01" or "2026-11-01T09:00:00Z"), reviewed_at_time
 * its value in seconds (start of the day for a date).
 */
/*
 * record: what the audit trail keeps of a session that this rule decided
 * once (docs/audit.md, "Session recording"): nothing, a summary of every
 * later request and response, or the summary and the frames themselves.
 */
typedef enum {
    HOOP_POLICY_RECORD_NONE = 0,
    HOOP_POLICY_RECORD_SUMMARY,
    HOOP_POLICY_RECORD_PAYLOADS
} hoop_policy_record_t;

/*
 * approval: the "approval" block of a grant (docs/approvals.md).  Such a
 * grant allows its operations only through a person's yes:
 * hoop_policy_check() never allows by it (except the operations its own
 * imply, DESCRIBE and DESCRIBE_CONFIGS, which it allows like any grant so
 * that clients find the resource); hoop_policy_check_approval() says
 * when a request needs one.  approvers are canonical principals
 * ("User:carol", "Group:sre", "User:*"), sorted, without duplicates;
 * durations in milliseconds: grant_ms the just-in-time grant an approval
 * opens, hold_ms the longest a request waits on the data path, expire_ms
 * how long an undecided approval stays open.
 */
typedef struct {
    const char * const          *approvers;
    size_t                       napprovers;
    int64_t                      grant_ms;
    int64_t                      hold_ms;
    int64_t                      expire_ms;
    int                          allow_self_approval;
    unsigned                     line;       /* of the block */
    unsigned                     column;
} hoop_policy_approval_t;

/* approval defaults and limits, milliseconds */
#define HOOP_POLICY_HOLD_DEFAULT       25000      /* < Kafka's 30 s */
#define HOOP_POLICY_HOLD_MAX           300000
#define HOOP_POLICY_HOLD_CLIENT        30000      /* request.timeout.ms */
#define HOOP_POLICY_EXPIRE_DEFAULT     3600000
#define HOOP_POLICY_EXPIRE_MAX         (30LL * 86400000)
#define HOOP_POLICY_GRANT_MAX          (90LL * 86400000)

typedef struct {
    const char                  *id;
    hoop_policy_kind_t           kind;
    const char                  *description;
    const char * const          *principals;
    size_t                       nprincipals;
    const hoop_policy_resource_t *resources;
    size_t                       nresources;
    uint32_t                     ops;        /* HOOP_POLICY_OP_BIT()s */
    const hoop_policy_host_t    *hosts;
    size_t                       nhosts;
    int64_t                      valid_from;
    int64_t                      valid_until;
    const char                  *reviewed_by;
    const char                  *reviewed_at;
    int64_t                      reviewed_at_time;
    const char                  *reason;
    hoop_policy_record_t         record;
    unsigned                     line;       /* of the rule's mapping */
    unsigned                     column;
    const hoop_policy_approval_t *approval;  /* grants; NULL: none */
} hoop_policy_rule_t;


/* ----------------------------------------------------------------------
 * Compiling
 */

typedef enum {
    HOOP_POLICY_FORMAT_AUTO = 0,       /* '{' first (after blanks): JSON */
    HOOP_POLICY_FORMAT_YAML,
    HOOP_POLICY_FORMAT_JSON
} hoop_policy_format_t;

/*
 * A checker of a section the compiler keeps as data ("masking"): called
 * once per compilation with the section as compact canonical JSON
 * (json[0..len), what hoop_policy_reserved() returns), it stores up to
 * max diagnostics (path: a JSON Pointer from the document root, e.g.
 * "/masking/0/fields/1/path"; line and column 0: the compiler fills them
 * in from the document) and returns how many it found (when more than
 * max, it is called again with room for all).  Its errors refuse the
 * policy.  src/mask's hoop_mask_policy_hook() checks "masking".
 */
typedef size_t (*hoop_policy_section_pt)(void *ctx, const char *json,
    size_t len, hoop_policy_diag_t *diags, size_t max);

/*
 *   now                   seconds since the Epoch used for time-relative
 *                         warnings (expiring, expired); 0: time(NULL)
 *   expiry_warning_days   "expiring" warning for a rule whose valid_until
 *                         is within this many days of now; 0: 14
 *   format                HOOP_POLICY_FORMAT_*
 *   masking, masking_ctx  the checker of the "masking" section; NULL: the
 *                         section is kept unchecked, with the warning
 *                         "reserved-section"
 */
typedef struct {
    int64_t                      now;
    unsigned                     expiry_warning_days;
    hoop_policy_format_t         format;
    hoop_policy_section_pt       masking;
    void                        *masking_ctx;
} hoop_policy_options_t;


/*
 * hoop_policy_compile: parse, validate and index a policy document.
 *
 *   text, len   the document, YAML 1.2 (core schema, timestamps read as
 *               strings; no aliases) or JSON (RFC 8259); need not be
 *               NUL-terminated; at most HOOP_POLICY_MAX_TEXT bytes
 *   diags       room for maxdiags diagnostics (may be NULL with 0); they
 *               are stored sorted by position, errors and warnings mixed
 *   ndiags      set to the number of problems found, which may exceed
 *               maxdiags (only the first maxdiags are stored); may be NULL
 *
 * Errors (each a diagnostic): syntax, schema (unknown or missing keys,
 * wrong types, unknown resource types or operations), and semantics
 * (duplicate ids, an operation Kafka checks on none of the rule's types,
 * invalid regex, valid_until before valid_from, grant without
 * reviewed_by / reviewed_at / reason, CIDR with host bits, ...).  Warnings:
 * rules expiring within expiry_warning_days or already expired, grants
 * whose access another grant already gives (overlap), a wildcard grant to
 * "User:*", names that cannot be Kafka topic names, reserved sections
 * (masking, approvals) not enforced yet, ...
 *
 * Returns the compiled policy, or NULL when there is at least one error
 * (or memory ran out: code "nomem").  Release with hoop_policy_free().
 */
hoop_policy_t *hoop_policy_compile(const char *text, size_t len,
    hoop_policy_diag_t *diags, size_t maxdiags, size_t *ndiags);

/* the same with options (opts may be NULL: defaults) */
hoop_policy_t *hoop_policy_compile_ex(const char *text, size_t len,
    const hoop_policy_options_t *opts, hoop_policy_diag_t *diags,
    size_t maxdiags, size_t *ndiags);

void hoop_policy_free(hoop_policy_t *p);

/*
 * hoop_policy_diag_format: "FILE:LINE:COL: error: MESSAGE [CODE]" (FILE
 * may be NULL), the way compilers print, into buf (always NUL-terminated
 * when buflen > 0).  Returns what snprintf() returns.
 */
int hoop_policy_diag_format(const hoop_policy_diag_t *d, const char *file,
    char *buf, size_t buflen);


/* ----------------------------------------------------------------------
 * Checking
 */

/* a client address; family 0 means unknown (matches only host "*") */
typedef struct {
    int                          family;    /* 0, 4 or 6 */
    uint8_t                      addr[16];
} hoop_policy_addr_t;

/*
 * From a struct sockaddr (AF_INET, AF_INET6; an IPv4-mapped IPv6 address
 * becomes IPv4, as Java's InetAddress does) or from text ("10.1.2.3",
 * "::1", "::ffff:10.1.2.3").  Return 0, or -1 (a->family set to 0) for
 * other families or unparsable text.
 */
int hoop_policy_addr_from_sockaddr(hoop_policy_addr_t *a,
    const struct sockaddr *sa);
int hoop_policy_addr_parse(hoop_policy_addr_t *a, const char *text,
    size_t len);

/*
 * A request to authorize (all borrowed, only for the call):
 *
 *   principal   the caller's user name, without "User:" ("alice");
 *               data NULL: unauthenticated, which nothing matches
 *   groups      ngroups group names, without "Group:"
 *   addr        client address, or NULL (unknown: only "*" hosts match)
 *   resource    resource type; name its name (for CLUSTER, any value:
 *               Kafka always asks for "kafka-cluster")
 *   op          the operation asked for (not ALL, not UNKNOWN)
 *   now         seconds since the Epoch (time(NULL), ngx_time())
 */
typedef struct {
    hoop_policy_str_t            principal;
    const hoop_policy_str_t     *groups;
    size_t                       ngroups;
    const hoop_policy_addr_t    *addr;
    hoop_policy_res_t            resource;
    hoop_policy_str_t            name;
    hoop_policy_op_t             op;
    int64_t                      now;
} hoop_policy_request_t;

typedef enum {
    HOOP_POLICY_ALLOWED_GRANT = 0,     /* rule: the grant */
    HOOP_POLICY_DENIED_DENY,           /* rule: the deny (deny wins) */
    HOOP_POLICY_DENIED_NO_GRANT,       /* default deny */
    HOOP_POLICY_DENIED_EXPIRED,        /* default deny; window: a grant
                                          that matches but has expired */
    HOOP_POLICY_DENIED_NOT_YET_VALID,  /* default deny; window: a grant
                                          that matches from valid_from */
    HOOP_POLICY_DENIED_UNAUTHENTICATED,/* no principal */
    HOOP_POLICY_DENIED_INVALID,        /* bad request (type, op, NULL) */
    HOOP_POLICY_APPROVAL_NEEDED        /* not allowed yet; rule: the grant
                                          with an approval block that
                                          allows it once approved
                                          (hoop_policy_check_approval) */
} hoop_policy_reason_t;

/*
 *   allowed   1 or 0 (also the return value of hoop_policy_check())
 *   rule      the deciding grant or deny, NULL for a default deny
 *   rule_id   rule->id or NULL
 *   window    for DENIED_EXPIRED / _NOT_YET_VALID the grant that would
 *             have allowed the request inside its window, else NULL
 *   text      short static text for logs: "grant", "deny", "no grant",
 *             "grant expired", ...
 *
 * When several rules decide alike, the one with the smallest id (byte
 * order) is reported: decisions never depend on the order of rules in the
 * document, so the canonical form decides exactly like its source.
 */
typedef struct {
    int                          allowed;
    hoop_policy_reason_t         reason;
    const hoop_policy_rule_t    *rule;
    const char                  *rule_id;
    const hoop_policy_rule_t    *window;
    const char                  *text;
} hoop_policy_decision_t;

/*
 * hoop_policy_check: may req's caller do req->op on (req->resource,
 * req->name) at req->now?  Kafka's Authorizer.authorize() for one Action
 * with a LITERAL resource pattern.  out may be NULL.
 *
 * Returns 1 (allowed) or 0 (denied; also for an invalid request).  Cost:
 * one hash lookup per principal and group, one for the literal name, one
 * per distinct prefix length, then the caller's own literal "*" and regex
 * rules (bucketed by principal); a regex runs only when the rule's
 * operation, host and window already match; no allocation.  A regex that
 * exhausts its backtracking budget (HOOP_POLICY_MATCH_LIMIT steps) fails
 * closed: no match for a grant, a match for a deny.
 */
int hoop_policy_check(const hoop_policy_t *p,
    const hoop_policy_request_t *req, hoop_policy_decision_t *out);

/*
 * hoop_policy_check_approval: hoop_policy_check(), then, when it denied
 * only for want of a grant (no grant, a grant expired or not yet valid;
 * never after a deny), the grants with an "approval" block: the one with
 * the smallest id whose principals, resources, hosts and window match
 * and whose operations list req->op (or all; no implication: DESCRIBE is
 * not held for a READ approval).  This is the data path's question "does
 * this request need an approval, and under which rule" (docs/approvals.md).
 *
 * Returns 1 (allowed by a grant without approval), 0 (denied; out as
 * hoop_policy_check() sets it) or HOOP_POLICY_NEEDS_APPROVAL (out->reason
 * HOOP_POLICY_APPROVAL_NEEDED, out->allowed 0, out->rule the grant, its
 * ->approval the block).  Costs nothing more than hoop_policy_check()
 * when no approval grant lists req->op on req->resource's type.
 */
#define HOOP_POLICY_NEEDS_APPROVAL     2

int hoop_policy_check_approval(const hoop_policy_t *p,
    const hoop_policy_request_t *req, hoop_policy_decision_t *out);

typedef enum {
    HOOP_POLICY_APPROVER_OK = 0,
    HOOP_POLICY_APPROVER_NOT_LISTED,   /* not among the rule's approvers */
    HOOP_POLICY_APPROVER_SELF,         /* the requester, and the rule has
                                          no allow_self_approval */
    HOOP_POLICY_APPROVER_NO_APPROVAL   /* rule NULL or without approval */
} hoop_policy_approver_t;

/*
 * hoop_policy_approver_check: may approver (a user name, without
 * "User:"), whose identity carries groups[0..ngroups) (names without
 * "Group:"), decide an approval of rule asked by requester (a user name)?
 * Listed: "User:<approver>", "User:*", or "Group:<g>" for one of groups.
 * Self-approval (approver equal to requester, byte for byte) is refused
 * unless the rule allows it; a requester may always deny his own request
 * when listed (self_ok_for_deny: pass 1 for a deny).
 */
hoop_policy_approver_t hoop_policy_approver_check(
    const hoop_policy_rule_t *rule, hoop_policy_str_t approver,
    const hoop_policy_str_t *groups, size_t ngroups,
    hoop_policy_str_t requester, int self_ok_for_deny);

/*
 * Durations of the policy language: "25s", "90m", "1h", "7d", "1500ms"
 * (a decimal number and one unit).  hoop_policy_duration_parse: 0 and *ms,
 * or -1 (syntax, or more than 2^53 ms).  hoop_policy_duration_format: the
 * canonical text (the largest unit that divides ms exactly) into buf;
 * returns buf.
 */
int hoop_policy_duration_parse(const char *s, size_t len, int64_t *ms);
const char *hoop_policy_duration_format(int64_t ms, char *buf, size_t size);

/*
 * hoop_policy_check_any: may the caller do req->op on SOME resource of
 * type req->resource (req->name ignored)?  Kafka's
 * Authorizer.authorizeByResourceType() (KIP-679), used by the broker for
 * InitProducerId without a transactional id (IDEMPOTENT_WRITE on the
 * cluster or WRITE on any topic).  Exactly Kafka's algorithm: allowed if
 * the probe name "hardcode" is allowed; otherwise denied by a literal "*"
 * deny; otherwise allowed by a literal "*" grant, or by a literal or
 * prefixed grant that no deny "dominates" (a literal deny of the same
 * name, a prefixed deny that is a prefix of it); operations compared
 * without implication.  Our extensions: regex grants count as allowing
 * (regex denies cannot dominate anything), groups, CIDR hosts and windows
 * apply as in hoop_policy_check().  Cost: linear in the rules of the
 * type.  Returns 1 or 0; out may be NULL (out->rule is a grant or deny
 * that decided, or NULL).
 */
int hoop_policy_check_any(const hoop_policy_t *p,
    const hoop_policy_request_t *req, hoop_policy_decision_t *out);

/*
 * hoop_policy_authorized_ops: the operations of Kafka's
 * AclEntry.supportedOperations(req->resource) that hoop_policy_check()
 * allows on req->name (req->op ignored), as HOOP_POLICY_OP_BIT()s: the
 * value of TopicAuthorizedOperations, ClusterAuthorizedOperations and
 * AuthorizedOperations (KIP-430).
 */
uint32_t hoop_policy_authorized_ops(const hoop_policy_t *p,
    const hoop_policy_request_t *req);


/* ----------------------------------------------------------------------
 * Introspection (hoopctl review / show / diff, the on-disk cache)
 */

/* grants or denies, sorted by id: index 0 .. count - 1 */
size_t hoop_policy_rule_count(const hoop_policy_t *p,
    hoop_policy_kind_t kind);
const hoop_policy_rule_t *hoop_policy_rule_at(const hoop_policy_t *p,
    hoop_policy_kind_t kind, size_t i);
/* a grant or deny by id, or NULL */
const hoop_policy_rule_t *hoop_policy_rule_find(const hoop_policy_t *p,
    const char *id, size_t len);

/* -1: before valid_from, 0: active, 1: after valid_until */
int hoop_policy_rule_window(const hoop_policy_rule_t *r, int64_t now);

/* the document's description, or NULL */
const char *hoop_policy_description(const hoop_policy_t *p);

/*
 * hoop_policy_canonical: the policy in canonical JSON: UTF-8, two-space
 * indentation, keys in a fixed order (docs/policy.md), rules sorted by id,
 * lists sorted and deduplicated, times in UTC ("2026-12-31T23:59:59Z"),
 * hosts normalised, "*" hosts written out, reserved sections with sorted
 * keys, a final newline.  Compiling it gives the same canonical text and
 * the same decisions.  *len (when len is not NULL) gets its length.
 */
const char *hoop_policy_canonical(const hoop_policy_t *p, size_t *len);

/* SHA-256 of the canonical text: 32 bytes, and 64 lowercase hex digits */
const unsigned char *hoop_policy_sha256(const hoop_policy_t *p);
const char *hoop_policy_sha256_hex(const hoop_policy_t *p);

/*
 * A reserved top-level section ("masking", "approvals") as canonical JSON
 * text (NUL-terminated), or NULL when absent.  Kept verbatim for the
 * engines that give them meaning: "masking" is compiled by src/mask
 * (hoop_mask_policy_compile(), checked here through options.masking);
 * "approvals" is not enforced by this version.
 */
const char *hoop_policy_reserved(const hoop_policy_t *p, const char *name);


/* ----------------------------------------------------------------------
 * Names
 */

/* "read", "describe_configs", ...; NULL for an unknown code */
const char *hoop_policy_op_name(hoop_policy_op_t op);
/* HOOP_POLICY_OP_UNKNOWN when s is not a policy operation name */
hoop_policy_op_t hoop_policy_op_parse(const char *s, size_t len);

/* "topic", "transactional_id", ...; NULL for an unknown code */
const char *hoop_policy_res_name(hoop_policy_res_t type);
hoop_policy_res_t hoop_policy_res_parse(const char *s, size_t len);

/* "literal", "prefix", "regex" */
const char *hoop_policy_match_name(hoop_policy_match_t match);

/*
 * The operations of a resource type, as bits (ALL not included): Kafka's
 * AclEntry.supportedOperations(), which authorized-operation fields use.
 * 0 for an unknown type.  (Rules may also name DELETE on the cluster:
 * DeleteTopics asks for it, though Kafka does not list it here.)
 */
uint32_t hoop_policy_res_ops(hoop_policy_res_t type);


#endif /* _HOOP_POLICY_H_INCLUDED_ */
