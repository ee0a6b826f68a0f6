/*
 * Reading a policy document into the tree of hoop_policy_int.h, with the
 * line and column of every key and value.
 *
 * YAML: libyaml's event parser; plain scalars resolved with the YAML 1.2
 * core schema (null, true/false, integers, floats), except that
 * timestamps stay strings (valid_until: 2026-12-31T23:59:59Z is text to
 * us, as in JSON); quoted and block scalars are strings.  Aliases,
 * non-standard tags, complex keys, duplicate keys, NUL characters and
 * multi-document streams are refused.
 *
 * JSON: jansson (RFC 8259, duplicate keys refused).  jansson keeps no
 * positions, so a small scanner walks the (already valid) text and lists
 * where each key and value starts, in document order, which is the order
 * jansson iterates objects in (insertion order, jansson >= 2.8).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "hoop_policy_int.h"


typedef struct {
    hoop_policy_node_t          *node;
    hoop_policy_node_t         **items;
    hoop_policy_node_t         **keys;
    size_t                       n;
    size_t                       cap;
    hoop_policy_node_t          *key;        /* map: pending key */
} hoop_policy_frame_t;

typedef struct {
    unsigned                     line;
    unsigned                     column;
} hoop_policy_pos_t;

typedef struct {
    hoop_policy_pos_t           *pos;
    size_t                       n;
    size_t                       next;
    hoop_policy_arena_t         *arena;
    hoop_policy_diags_t         *diags;
    int                          failed;
} hoop_policy_jctx_t;


static hoop_policy_node_t *hoop_policy_yaml_parse(const char *text,
    size_t len, hoop_policy_arena_t *a, hoop_policy_diags_t *d);
static void hoop_policy_yaml_scalar(hoop_policy_node_t *n,
    const yaml_event_t *ev);
static int hoop_policy_frame_add(hoop_policy_frame_t *f,
    hoop_policy_node_t *n, hoop_policy_diags_t *d);
static int hoop_policy_frame_close(hoop_policy_frame_t *f,
    hoop_policy_arena_t *a, hoop_policy_diags_t *d);
static int hoop_policy_keys_unique(hoop_policy_node_t *map,
    hoop_policy_diags_t *d);
static int hoop_policy_key_cmp(const void *a, const void *b);
static hoop_policy_node_t *hoop_policy_json_parse(const char *text,
    size_t len, hoop_policy_arena_t *a, hoop_policy_diags_t *d);
static int hoop_policy_json_scan(const char *s, size_t len,
    hoop_policy_pos_t **pos, size_t *npos);
static hoop_policy_node_t *hoop_policy_json_node(hoop_policy_jctx_t *c,
    json_t *v, unsigned depth);
static hoop_policy_pos_t hoop_policy_json_next(hoop_policy_jctx_t *c);


const char *
hoop_policy_ntype_name(hoop_policy_ntype_t t)
{
    switch (t) {
    case HOOP_POLICY_N_NULL:
        return "null";
    case HOOP_POLICY_N_BOOL:
        return "a boolean";
    case HOOP_POLICY_N_INT:
        return "an integer";
    case HOOP_POLICY_N_REAL:
        return "a number";
    case HOOP_POLICY_N_STR:
        return "a string";
    case HOOP_POLICY_N_SEQ:
        return "a list";
    case HOOP_POLICY_N_MAP:
        return "a mapping";
    }

    return "?";
}


hoop_policy_node_t *
hoop_policy_doc_parse(const char *text, size_t len,
    hoop_policy_format_t format, hoop_policy_arena_t *a,
    hoop_policy_diags_t *d)
{
    size_t  i;

    /* a UTF-8 byte order mark is allowed and skipped */

    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        text += 3;
        len -= 3;
    }

    if (format == HOOP_POLICY_FORMAT_AUTO) {
        format = HOOP_POLICY_FORMAT_YAML;

        for (i = 0; i < len; i++) {
            if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r'
                || text[i] == '\n')
            {
                continue;
            }

            if (text[i] == '{') {
                format = HOOP_POLICY_FORMAT_JSON;
            }

            break;
        }
    }

    if (format == HOOP_POLICY_FORMAT_JSON) {
        return hoop_policy_json_parse(text, len, a, d);
    }

    return hoop_policy_yaml_parse(text, len, a, d);
}


/* ---------------------------------------------------------------------- */


static hoop_policy_node_t *
hoop_policy_yaml_parse(const char *text, size_t len, hoop_policy_arena_t *a,
    hoop_policy_diags_t *d)
{
    int                   done, ndocs, depth, i;
    yaml_parser_t         parser;
    yaml_event_t          ev;
    hoop_policy_node_t   *n, *root;
    hoop_policy_frame_t   stack[HOOP_POLICY_MAX_DEPTH];

    if (!yaml_parser_initialize(&parser)) {
        hoop_policy_error(d, "nomem", (hoop_policy_node_t *) NULL, "",
                          "out of memory");
        return NULL;
    }

    yaml_parser_set_input_string(&parser, (const unsigned char *) text, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

    root = NULL;
    depth = 0;
    ndocs = 0;
    done = 0;

    while (!done) {

        if (!yaml_parser_parse(&parser, &ev)) {
            hoop_policy_diag(d, HOOP_POLICY_SEV_ERROR, "syntax",
                             (unsigned) parser.problem_mark.line + 1,
                             (unsigned) parser.problem_mark.column + 1, "",
                             "YAML: %s%s%s",
                             parser.problem ? parser.problem : "error",
                             parser.context ? " " : "",
                             parser.context ? parser.context : "");
            root = NULL;
            break;
        }

        n = NULL;

        switch (ev.type) {

        case YAML_DOCUMENT_START_EVENT:
            if (++ndocs > 1) {
                hoop_policy_diag(d, HOOP_POLICY_SEV_ERROR, "syntax",
                                 (unsigned) ev.start_mark.line + 1,
                                 (unsigned) ev.start_mark.column + 1, "",
                                 "a policy is one YAML document; found a "
                                 "second one");
                root = NULL;
                done = 1;
            }
            break;

        case YAML_STREAM_END_EVENT:
            done = 1;
            break;

        case YAML_ALIAS_EVENT:
            hoop_policy_diag(d, HOOP_POLICY_SEV_ERROR, "yaml-alias",
                             (unsigned) ev.start_mark.line + 1,
                             (unsigned) ev.start_mark.column + 1, "",
                             "YAML aliases (*%s) are not allowed: write "
                             "every rule out, reviewers read it as is",
                             ev.data.alias.anchor
                             ? (const char *) ev.data.alias.anchor : "");
            root = NULL;
            done = 1;
            break;

        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            n = hoop_policy_calloc(a, 1, sizeof(hoop_policy_node_t));
            if (n == NULL) {
                break;
            }

            n->line = (unsigned) ev.start_mark.line + 1;
            n->column = (unsigned) ev.start_mark.column + 1;

            if (ev.type == YAML_SCALAR_EVENT) {
                const char  *tag;

                tag = (const char *) ev.data.scalar.tag;
                if (tag && strcmp(tag, "!") != 0
                    && strcmp(tag, YAML_STR_TAG) != 0)
                {
                    hoop_policy_error(d, "yaml-tag", n, "",
                                      "YAML tag %s is not allowed", tag);
                    root = NULL;
                    done = 1;
                    break;
                }

                if (memchr(ev.data.scalar.value, '\0',
                           ev.data.scalar.length))
                {
                    hoop_policy_error(d, "syntax", n, "",
                                      "NUL characters are not allowed");
                    root = NULL;
                    done = 1;
                    break;
                }

                n->str = hoop_policy_strndup(a,
                                   (const char *) ev.data.scalar.value,
                                   ev.data.scalar.length);
                if (n->str == NULL) {
                    break;
                }

                n->len = ev.data.scalar.length;

                if (tag) {
                    n->type = HOOP_POLICY_N_STR;

                } else {
                    hoop_policy_yaml_scalar(n, &ev);
                }

                if (depth == 0) {
                    root = n;

                } else if (hoop_policy_frame_add(&stack[depth - 1], n, d)
                           != 0)
                {
                    root = NULL;
                    done = 1;
                }

                break;
            }

            n->type = ev.type == YAML_MAPPING_START_EVENT ? HOOP_POLICY_N_MAP
                                                          : HOOP_POLICY_N_SEQ;

            if (depth > 0 && stack[depth - 1].node->type == HOOP_POLICY_N_MAP
                && stack[depth - 1].key == NULL)
            {
                hoop_policy_error(d, "syntax", n, "",
                                  "keys must be plain text, not %s",
                                  hoop_policy_ntype_name(n->type));
                root = NULL;
                done = 1;
                break;
            }

            if (depth == HOOP_POLICY_MAX_DEPTH) {
                hoop_policy_error(d, "too-deep", n, "",
                                  "nested deeper than %d levels",
                                  HOOP_POLICY_MAX_DEPTH);
                root = NULL;
                done = 1;
                break;
            }

            memset(&stack[depth], 0, sizeof(stack[depth]));
            stack[depth].node = n;
            depth++;
            break;

        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            n = stack[depth].node;

            if (hoop_policy_frame_close(&stack[depth], a, d) != 0) {
                root = NULL;
                done = 1;
                break;
            }

            if (depth == 0) {
                root = n;

            } else if (hoop_policy_frame_add(&stack[depth - 1], n, d) != 0) {
                root = NULL;
                done = 1;
            }

            break;

        default:
            break;
        }

        yaml_event_delete(&ev);

        if (a->failed) {
            hoop_policy_error(d, "nomem", (hoop_policy_node_t *) NULL, "",
                              "out of memory");
            root = NULL;
            break;
        }
    }

    for (i = 0; i < depth; i++) {
        free(stack[i].items);
        free(stack[i].keys);
    }

    yaml_parser_delete(&parser);

    if (root == NULL && d->nerrors == 0) {
        hoop_policy_error(d, "syntax", (hoop_policy_node_t *) NULL, "",
                          "the document is empty");
    }

    return d->nerrors ? NULL : root;
}


static void
hoop_policy_yaml_scalar(hoop_policy_node_t *n, const yaml_event_t *ev)
{
    char        *end;
    size_t       i, len;
    const char  *s;
    int          digits, dot, exp;

    n->type = HOOP_POLICY_N_STR;

    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return;
    }

    s = n->str;
    len = n->len;

    if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0
        || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
    {
        n->type = HOOP_POLICY_N_NULL;
        return;
    }

    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0
        || strcmp(s, "TRUE") == 0)
    {
        n->type = HOOP_POLICY_N_BOOL;
        n->bval = 1;
        return;
    }

    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0
        || strcmp(s, "FALSE") == 0)
    {
        n->type = HOOP_POLICY_N_BOOL;
        n->bval = 0;
        return;
    }

    /* [-+]? digits, or 0o octal, 0x hex (YAML 1.2 core) */

    i = (s[0] == '-' || s[0] == '+') ? 1 : 0;

    if (i == 0 && len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
        errno = 0;
        n->ival = (int64_t) strtoll(s + 2, &end, s[1] == 'o' ? 8 : 16);
        if (errno == 0 && *end == '\0') {
            n->type = HOOP_POLICY_N_INT;
        }
        return;
    }

    digits = 0;
    dot = 0;
    exp = 0;

    for ( /* void */ ; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            digits++;

        } else if (s[i] == '.' && !dot && !exp) {
            dot = 1;

        } else if ((s[i] == 'e' || s[i] == 'E') && digits && !exp) {
            exp = 1;
            if (i + 1 < len && (s[i + 1] == '-' || s[i + 1] == '+')) {
                i++;
            }
            if (i + 1 >= len) {
                return;
            }

        } else {
            return;
        }
    }

    if (digits == 0) {
        return;
    }

    errno = 0;

    if (!dot && !exp) {
        n->ival = (int64_t) strtoll(s, &end, 10);
        if (errno == 0 && *end == '\0') {
            n->type = HOOP_POLICY_N_INT;
            return;
        }
        errno = 0;
    }

    n->rval = strtod(s, &end);
    if (errno == 0 && *end == '\0') {
        n->type = HOOP_POLICY_N_REAL;
    }
}


static int
hoop_policy_frame_add(hoop_policy_frame_t *f, hoop_policy_node_t *n,
    hoop_policy_diags_t *d)
{
    size_t                cap;
    hoop_policy_node_t  **items, **keys;

    if (f->node->type == HOOP_POLICY_N_MAP && f->key == NULL) {
        if (n->type == HOOP_POLICY_N_SEQ || n->type == HOOP_POLICY_N_MAP) {
            hoop_policy_error(d, "syntax", n, "",
                              "keys must be plain text");
            return -1;
        }

        /* a key is its text, whatever it would resolve to */
        n->type = HOOP_POLICY_N_STR;
        f->key = n;
        return 0;
    }

    if (f->n == f->cap) {
        cap = f->cap ? f->cap * 2 : 8;

        items = realloc(f->items, cap * sizeof(*items));
        if (items == NULL) {
            goto nomem;
        }
        f->items = items;

        if (f->node->type == HOOP_POLICY_N_MAP) {
            keys = realloc(f->keys, cap * sizeof(*keys));
            if (keys == NULL) {
                goto nomem;
            }
            f->keys = keys;
        }

        f->cap = cap;
    }

    if (f->node->type == HOOP_POLICY_N_MAP) {
        f->keys[f->n] = f->key;
        f->key = NULL;
    }

    f->items[f->n++] = n;

    return 0;

nomem:

    hoop_policy_error(d, "nomem", (hoop_policy_node_t *) NULL, "",
                      "out of memory");
    return -1;
}


static int
hoop_policy_frame_close(hoop_policy_frame_t *f, hoop_policy_arena_t *a,
    hoop_policy_diags_t *d)
{
    int                  rc;
    hoop_policy_node_t  *n;

    n = f->node;
    n->n = f->n;
    rc = 0;

    if (f->n) {
        n->items = hoop_policy_alloc(a, f->n * sizeof(*n->items));
        if (n->items) {
            memcpy(n->items, f->items, f->n * sizeof(*n->items));
        }

        if (n->type == HOOP_POLICY_N_MAP) {
            n->keys = hoop_policy_alloc(a, f->n * sizeof(*n->keys));
            if (n->keys) {
                memcpy(n->keys, f->keys, f->n * sizeof(*n->keys));
            }
        }

        if (a->failed) {
            hoop_policy_error(d, "nomem", (hoop_policy_node_t *) NULL, "",
                              "out of memory");
            rc = -1;

        } else if (n->type == HOOP_POLICY_N_MAP) {
            rc = hoop_policy_keys_unique(n, d);
        }
    }

    free(f->items);
    free(f->keys);
    f->items = NULL;
    f->keys = NULL;

    return rc;
}


static int
hoop_policy_key_cmp(const void *a, const void *b)
{
    const hoop_policy_node_t  *x, *y;
    int                        c;

    x = *(hoop_policy_node_t * const *) a;
    y = *(hoop_policy_node_t * const *) b;

    c = memcmp(x->str, y->str, x->len < y->len ? x->len : y->len);
    if (c == 0) {
        c = x->len < y->len ? -1 : x->len > y->len;
    }
    if (c == 0) {
        /* later occurrence last */
        c = x->line != y->line ? (x->line < y->line ? -1 : 1)
                               : (x->column < y->column ? -1
                                  : x->column > y->column);
    }

    return c;
}


static int
hoop_policy_keys_unique(hoop_policy_node_t *map, hoop_policy_diags_t *d)
{
    size_t                i;
    int                   rc;
    hoop_policy_node_t  **keys;

    keys = malloc(map->n * sizeof(*keys));
    if (keys == NULL) {
        hoop_policy_error(d, "nomem", (hoop_policy_node_t *) NULL, "",
                          "out of memory");
        return -1;
    }

    memcpy(keys, map->keys, map->n * sizeof(*keys));
    qsort(keys, map->n, sizeof(*keys), hoop_policy_key_cmp);

    rc = 0;

    for (i = 1; i < map->n; i++) {
        if (keys[i]->len == keys[i - 1]->len
            && memcmp(keys[i]->str, keys[i - 1]->str, keys[i]->len) == 0)
        {
            hoop_policy_error(d, "duplicate-key", keys[i], "",
                              "duplicate key \"%.*s\" (first at line %u)",
                              (int) (keys[i]->len > 64 ? 64 : keys[i]->len),
                              keys[i]->str, keys[i - 1]->line);
            rc = -1;
        }
    }

    free(keys);

    return rc;
}


/* ---------------------------------------------------------------------- */


static hoop_policy_node_t *
hoop_policy_json_parse(const char *text, size_t len, hoop_policy_arena_t *a,
    hoop_policy_diags_t *d)
{
    json_t              *root;
    json_error_t         jerr;
    hoop_policy_jctx_t   c;
    hoop_policy_node_t  *n;

    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        hoop_policy_diag(d, HOOP_POLICY_SEV_ERROR,
                         json_error_code(&jerr) == json_error_duplicate_key
                         ? "duplicate-key" : "syntax",
                         jerr.line > 0 ? (unsigned) jerr.line : 0,
                         jerr.column > 0 ? (unsigned) jerr.column : 0, "",
                         "JSON: %s", jerr.text);
        return NULL;
    }

    memset(&c, 0, sizeof(c));
    c.arena = a;
    c.diags = d;

    if (hoop_policy_json_scan(text, len, &c.pos, &c.n) != 0) {
        json_decref(root);
        hoop_policy_error(d, "nomem", (hoop_policy_node_t *) NULL, "",
                          "out of memory");
        return NULL;
    }

    n = hoop_policy_json_node(&c, root, 0);

    free(c.pos);
    json_decref(root);

    if (a->failed && !c.failed) {
        hoop_policy_error(d, "nomem", (hoop_policy_node_t *) NULL, "",
                          "out of memory");
        return NULL;
    }

    return c.failed || a->failed ? NULL : n;
}


/*
 * The start of every key and value of valid JSON text, in text order:
 * what a pre-order walk of the parsed value meets (object members in
 * insertion order).
 */
static int
hoop_policy_json_scan(const char *s, size_t len, hoop_policy_pos_t **pos,
    size_t *npos)
{
    size_t              i, n, cap;
    unsigned            line, col;
    unsigned char       c;
    hoop_policy_pos_t  *p, *np;

    p = NULL;
    n = 0;
    cap = 0;
    line = 1;
    col = 1;

    for (i = 0; i < len; /* void */) {
        c = (unsigned char) s[i];

        if (c == '\n') {
            line++;
            col = 1;
            i++;
            continue;
        }

        if (c == ' ' || c == '\t' || c == '\r' || c == ',' || c == ':'
            || c == '}' || c == ']')
        {
            col++;
            i++;
            continue;
        }

        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            np = realloc(p, cap * sizeof(*p));
            if (np == NULL) {
                free(p);
                return -1;
            }
            p = np;
        }

        p[n].line = line;
        p[n].column = col;
        n++;

        if (c == '{' || c == '[') {
            col++;
            i++;
            continue;
        }

        if (c == '"') {
            col++;
            i++;

            while (i < len && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < len) {
                    col++;
                    i++;
                }
                if (((unsigned char) s[i] & 0xc0) != 0x80) {
                    col++;
                }
                i++;
            }

            col++;
            i++;
            continue;
        }

        /* number, true, false, null */

        while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']'
               && s[i] != ' ' && s[i] != '\t' && s[i] != '\r'
               && s[i] != '\n')
        {
            col++;
            i++;
        }
    }

    *pos = p;
    *npos = n;

    return 0;
}


static hoop_policy_pos_t
hoop_policy_json_next(hoop_policy_jctx_t *c)
{
    hoop_policy_pos_t  none = { 0, 0 };

    if (c->next < c->n) {
        return c->pos[c->next++];
    }

    return none;
}


static hoop_policy_node_t *
hoop_policy_json_node(hoop_policy_jctx_t *c, json_t *v, unsigned depth)
{
    size_t               i, n;
    json_t              *item;
    const char          *key;
    hoop_policy_pos_t    pos;
    hoop_policy_node_t  *node, *k;

    pos = hoop_policy_json_next(c);

    node = hoop_policy_calloc(c->arena, 1, sizeof(hoop_policy_node_t));
    if (node == NULL) {
        return NULL;
    }

    node->line = pos.line;
    node->column = pos.column;

    switch (json_typeof(v)) {

    case JSON_OBJECT:
    case JSON_ARRAY:
        if (depth >= HOOP_POLICY_MAX_DEPTH) {
            hoop_policy_error(c->diags, "too-deep", node, "",
                              "nested deeper than %d levels",
                              HOOP_POLICY_MAX_DEPTH);
            c->failed = 1;
            return NULL;
        }

        if (json_is_array(v)) {
            node->type = HOOP_POLICY_N_SEQ;
            n = json_array_size(v);

        } else {
            node->type = HOOP_POLICY_N_MAP;
            n = json_object_size(v);
        }

        node->n = n;
        if (n == 0) {
            return node;
        }

        node->items = hoop_policy_calloc(c->arena, n, sizeof(*node->items));
        if (node->items == NULL) {
            return NULL;
        }

        if (json_is_array(v)) {
            json_array_foreach(v, i, item) {
                node->items[i] = hoop_policy_json_node(c, item, depth + 1);
                if (node->items[i] == NULL) {
                    return NULL;
                }
            }

            return node;
        }

        node->keys = hoop_policy_calloc(c->arena, n, sizeof(*node->keys));
        if (node->keys == NULL) {
            return NULL;
        }

        i = 0;
        json_object_foreach(v, key, item) {
            pos = hoop_policy_json_next(c);

            k = hoop_policy_calloc(c->arena, 1, sizeof(hoop_policy_node_t));
            if (k == NULL) {
                return NULL;
            }

            k->type = HOOP_POLICY_N_STR;
            k->line = pos.line;
            k->column = pos.column;
            k->len = strlen(key);
            k->str = hoop_policy_strndup(c->arena, key, k->len);
            if (k->str == NULL) {
                return NULL;
            }

            node->keys[i] = k;
            node->items[i] = hoop_policy_json_node(c, item, depth + 1);
            if (node->items[i] == NULL) {
                return NULL;
            }

            i++;
        }

        return node;

    case JSON_STRING:
        node->type = HOOP_POLICY_N_STR;
        node->len = json_string_length(v);
        node->str = hoop_policy_strndup(c->arena, json_string_value(v),
                                        node->len);
        return node->str ? node : NULL;

    case JSON_INTEGER:
        node->type = HOOP_POLICY_N_INT;
        node->ival = (int64_t) json_integer_value(v);
        break;

    case JSON_REAL:
        node->type = HOOP_POLICY_N_REAL;
        node->rval = json_real_value(v);
        break;

    case JSON_TRUE:
    case JSON_FALSE:
        node->type = HOOP_POLICY_N_BOOL;
        node->bval = json_is_true(v);
        break;

    default:
        node->type = HOOP_POLICY_N_NULL;
        break;
    }

    return node;
}
