/*
 * hoopctl credentials set USER [--groups A,B] | delete USER | list: the
 * SASL users (PLAIN, SCRAM) that gateways with "hoop_sasl_credentials
 * redis" serve (docs/redis-layout.md).
 *
 *   PREFIX credentials          hash: user -> one credential line, as
 *                               hoop-passwd prints it (salted, iterated
 *                               hashes; never a password)
 *   PREFIX credentials:sha256   SHA-256 (hex) of the lines sorted by user,
 *                               each followed by a newline
 *   PREFIX policy:notify        {"credentials":"SHA256"} after each change
 *
 * A change is WATCH, HGETALL, then MULTI / HSET or HDEL / SET sha256 /
 * EXEC (retried when another writer got in between), so the hash and its
 * digest always change together; the whole new set is checked with the
 * gateway's own parser first.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <termios.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "hoopctl.h"
#include "hoop_credentials.h"


#define HOOPCTL_CREDS_KEY      "credentials"
#define HOOPCTL_CREDS_SHA256   "credentials:sha256"
#define HOOPCTL_CREDS_RETRIES  10


typedef struct {
    const char   *user;
    size_t        user_len;
    const char   *line;
    size_t        line_len;
} hoopctl_cred_row_t;


static int
hoopctl_cred_row_cmp(const void *a, const void *b)
{
    const hoopctl_cred_row_t  *x = a, *y = b;
    size_t                     n;
    int                        c;

    n = x->user_len < y->user_len ? x->user_len : y->user_len;
    c = memcmp(x->user, y->user, n);

    if (c != 0) {
        return c;
    }

    return (x->user_len > y->user_len) - (x->user_len < y->user_len);
}


/* prints and frees doc (NULL: out of memory, nothing printed) */
static void
hoopctl_cred_print_json(json_t *doc)
{
    if (doc != NULL) {
        json_dumpf(doc, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(doc);
    }
}


/* one line of the password from stdin (no echo on a terminal) */
static int
hoopctl_cred_password(char *pw, size_t size, size_t *len)
{
    int             tty;
    size_t          n;
    struct termios  old, quiet;

    tty = isatty(STDIN_FILENO);

    if (tty) {
        fputs("Password: ", stderr);
        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t) ECHO;
            (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        } else {
            tty = 0;
        }
    }

    if (fgets(pw, (int) size, stdin) == NULL) {
        pw[0] = '\0';
    }

    if (tty) {
        (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }

    n = strlen(pw);

    if (n == size - 1 && pw[n - 1] != '\n') {
        hoopctl_error("password longer than %d bytes", HOOP_CRED_PASS_MAX);
        return -1;
    }

    while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r')) {
        n--;
    }

    pw[n] = '\0';

    if (n == 0) {
        hoopctl_error("empty password (give it on stdin)");
        return -1;
    }

    *len = n;
    return 0;
}


/*
 * Applies the change (line NULL: delete user) to the hash, atomically with
 * the digest, and publishes a notice.  HOOPCTL_OK, _NO (no such user to
 * delete, or the new set does not parse) or _ERROR.
 */
static int
hoopctl_cred_change(const char *redis, const char *prefix, const char *user,
    const char *line, int json)
{
    int                  rc, attempt, found;
    char                 err[256], hex[65], note[120];
    char                *key, *skey, *chan;
    size_t               i, n, len;
    redisReply          *r, *all;
    hoop_cred_set_t     *set;
    hoopctl_buf_t        text = { NULL, 0, 0 };
    hoopctl_cred_row_t  *rows;
    unsigned char        md[SHA256_DIGEST_LENGTH];
    hoopctl_store_t      s;

    if (hoopctl_store_open(&s, redis, prefix) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    key = hoopctl_store_key(&s, HOOPCTL_CREDS_KEY, 0);
    skey = hoopctl_store_key(&s, HOOPCTL_CREDS_SHA256, 0);
    chan = hoopctl_store_key(&s, HOOPCTL_CHANNEL, 0);

    rc = HOOPCTL_ERROR;
    all = NULL;
    rows = NULL;

    for (attempt = 0; attempt < HOOPCTL_CREDS_RETRIES; attempt++) {
        r = redisCommand(s.ctx, "WATCH %s", key);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            goto redis_error;
        }
        freeReplyObject(r);

        all = redisCommand(s.ctx, "HGETALL %s", key);
        if (all == NULL || all->type != REDIS_REPLY_ARRAY) {
            r = all;
            all = NULL;
            goto redis_error;
        }

        /* the new set: the others, plus the new line */
        n = all->elements / 2;
        rows = calloc(n + 1, sizeof(hoopctl_cred_row_t));
        if (rows == NULL) {
            hoopctl_error("out of memory");
            goto done;
        }

        len = 0;
        found = 0;

        for (i = 0; i < n; i++) {
            if (all->element[2 * i]->len == strlen(user)
                && memcmp(all->element[2 * i]->str, user,
                          all->element[2 * i]->len) == 0)
            {
                found = 1;
                continue;
            }

            rows[len].user = all->element[2 * i]->str;
            rows[len].user_len = all->element[2 * i]->len;
            rows[len].line = all->element[2 * i + 1]->str;
            rows[len].line_len = all->element[2 * i + 1]->len;
            len++;
        }

        if (line == NULL && !found) {
            hoopctl_error("no user \"%s\" in %s", user, key);
            r = redisCommand(s.ctx, "UNWATCH");
            if (r) {
                freeReplyObject(r);
            }
            rc = HOOPCTL_NO;
            goto done;
        }

        if (line) {
            rows[len].user = user;
            rows[len].user_len = strlen(user);
            rows[len].line = line;
            rows[len].line_len = strlen(line);
            len++;
        }

        qsort(rows, len, sizeof(hoopctl_cred_row_t), hoopctl_cred_row_cmp);

        text.len = 0;
        for (i = 0; i < len; i++) {
            hoopctl_buf_add(&text, rows[i].line, rows[i].line_len);
            hoopctl_buf_add(&text, "\n", 1);
        }

        err[0] = '\0';
        set = hoop_cred_set_parse(text.data ? text.data : "", text.len, err,
                                  sizeof(err));
        if (set == NULL) {
            hoopctl_error("the credentials in %s would not load: %s; "
                          "nothing changed", key, err);
            r = redisCommand(s.ctx, "UNWATCH");
            if (r) {
                freeReplyObject(r);
            }
            rc = HOOPCTL_NO;
            goto done;
        }
        hoop_cred_set_unref(set);

        SHA256((const unsigned char *) (text.data ? text.data : ""),
               text.len, md);
        for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        }

        free(rows);
        rows = NULL;
        freeReplyObject(all);
        all = NULL;

        r = redisCommand(s.ctx, "MULTI");
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            goto redis_error;
        }
        freeReplyObject(r);

        r = line ? redisCommand(s.ctx, "HSET %s %s %s", key, user, line)
                 : redisCommand(s.ctx, "HDEL %s %s", key, user);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            goto redis_error;
        }
        freeReplyObject(r);

        r = redisCommand(s.ctx, "SET %s %s", skey, hex);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            goto redis_error;
        }
        freeReplyObject(r);

        r = redisCommand(s.ctx, "EXEC");
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            goto redis_error;
        }

        if (r->type == REDIS_REPLY_NIL) {
            /* another writer changed the hash: again */
            freeReplyObject(r);
            continue;
        }

        freeReplyObject(r);
        rc = HOOPCTL_OK;
        break;
    }

    if (rc != HOOPCTL_OK) {
        hoopctl_error("Redis at %s: %s kept changing; nothing changed",
                      s.where, key);
        goto done;
    }

    snprintf(note, sizeof(note), "{\"credentials\":\"%s\"}", hex);
    r = redisCommand(s.ctx, "PUBLISH %s %s", chan, note);

    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        hoopctl_error("Redis at %s: PUBLISH %s failed (gateways pick the "
                      "change up on their next timer)", s.where, chan);
    }

    if (r) {
        freeReplyObject(r);
    }

    if (json) {
        hoopctl_cred_print_json(json_pack("{s:s, s:s, s:s}", "user", user,
                                          "action", line ? "set" : "delete",
                                          "sha256", hex));
    } else {
        printf("%s %s, credentials sha256 %s\n",
               line ? "stored" : "deleted", user, hex);
    }

    goto done;

redis_error:

    hoopctl_error("Redis at %s: %s: %s", s.where, key,
                  (r && r->type == REDIS_REPLY_ERROR) ? r->str
                  : (s.ctx->errstr[0] ? s.ctx->errstr : "no answer"));
    if (r) {
        freeReplyObject(r);
    }
    rc = HOOPCTL_ERROR;

done:

    if (all) {
        freeReplyObject(all);
    }

    free(rows);
    hoopctl_buf_free(&text);
    free(key);
    free(skey);
    free(chan);
    hoopctl_store_close(&s);

    return rc;
}


static int
hoopctl_cred_set(const char *redis, const char *prefix, const char *user,
    const char *groups, int json)
{
    int           rc;
    char          pw[HOOP_CRED_PASS_MAX + 2], err[256];
    char         *line, *copy, *p, *g[HOOP_CRED_GROUPS_MAX];
    size_t        pwlen, ng;

    copy = NULL;
    ng = 0;

    if (groups && groups[0]) {
        copy = malloc(strlen(groups) + 1);
        if (copy != NULL) {
            memcpy(copy, groups, strlen(groups) + 1);
        }

        if (copy == NULL) {
            hoopctl_error("out of memory");
            return HOOPCTL_ERROR;
        }

        for (p = strtok(copy, ","); p; p = strtok(NULL, ",")) {
            if (ng == HOOP_CRED_GROUPS_MAX) {
                hoopctl_error("more than %d groups", HOOP_CRED_GROUPS_MAX);
                free(copy);
                return HOOPCTL_ERROR;
            }
            g[ng++] = p;
        }
    }

    if (hoopctl_cred_password(pw, sizeof(pw), &pwlen) != 0) {
        free(copy);
        return HOOPCTL_ERROR;
    }

    err[0] = '\0';
    line = hoop_cred_entry_create(user, (const char *const *) g, ng,
                                  (const uint8_t *) pw, pwlen,
                                  HOOP_CRED_WANT_ALL, HOOP_CRED_ITER_DEFAULT,
                                  HOOP_CRED_ITER_DEFAULT, HOOP_CRED_MD_SHA256,
                                  err, sizeof(err));
    memset(pw, 0, sizeof(pw));
    free(copy);

    if (line == NULL) {
        hoopctl_error("credentials set %s: %s", user, err);
        return HOOPCTL_NO;
    }

    rc = hoopctl_cred_change(redis, prefix, user, line, json);
    free(line);

    return rc;
}


static int
hoopctl_cred_list(const char *redis, const char *prefix, int json)
{
    int                  rc;
    char                 err[256];
    char                *key;
    size_t               i, j, n;
    redisReply          *r;
    hoop_cred_set_t     *set;
    const hoop_cred_t   *cred;
    hoopctl_cred_row_t  *rows;
    json_t              *arr, *grp, *obj;
    hoopctl_store_t      s;

    if (hoopctl_store_open(&s, redis, prefix) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    key = hoopctl_store_key(&s, HOOPCTL_CREDS_KEY, 0);
    r = redisCommand(s.ctx, "HGETALL %s", key);
    rc = HOOPCTL_OK;
    rows = NULL;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        hoopctl_error("Redis at %s: HGETALL %s: %s", s.where, key,
                      (r && r->type == REDIS_REPLY_ERROR) ? r->str
                      : (s.ctx->errstr[0] ? s.ctx->errstr : "no answer"));
        rc = HOOPCTL_ERROR;
        goto done;
    }

    n = r->elements / 2;
    rows = calloc(n + 1, sizeof(hoopctl_cred_row_t));
    if (rows == NULL) {
        rc = HOOPCTL_ERROR;
        goto done;
    }

    for (i = 0; i < n; i++) {
        rows[i].user = r->element[2 * i]->str;
        rows[i].user_len = r->element[2 * i]->len;
        rows[i].line = r->element[2 * i + 1]->str;
        rows[i].line_len = r->element[2 * i + 1]->len;
    }

    qsort(rows, n, sizeof(hoopctl_cred_row_t), hoopctl_cred_row_cmp);

    arr = json ? json_array() : NULL;

    for (i = 0; i < n; i++) {
        err[0] = '\0';
        set = hoop_cred_set_parse(rows[i].line, rows[i].line_len, err,
                                  sizeof(err));
        cred = set ? hoop_cred_set_find(set, rows[i].user, rows[i].user_len)
                   : NULL;

        if (json) {
            grp = json_array();
            for (j = 0; cred && j < hoop_cred_ngroups(cred); j++) {
                json_array_append_new(grp,
                                      json_string(hoop_cred_group(cred, j)));
            }

            obj = json_pack("{s:s%, s:o}", "user", rows[i].user,
                            rows[i].user_len, "groups", grp);
            if (obj == NULL) {
                rc = HOOPCTL_NO;     /* a field name that is not UTF-8 */

            } else if (cred == NULL) {
                json_object_set_new(obj, "invalid", json_true());
                rc = HOOPCTL_NO;
            }
            json_array_append_new(arr, obj);

        } else {
            printf("%.*s", (int) rows[i].user_len, rows[i].user);

            for (j = 0; cred && j < hoop_cred_ngroups(cred); j++) {
                printf("%s%s", j ? "," : "\t", hoop_cred_group(cred, j));
            }

            if (cred == NULL) {
                printf("\t(invalid entry: %s)", err[0] ? err : "user differs");
                rc = HOOPCTL_NO;
            }
            fputc('\n', stdout);
        }

        hoop_cred_set_unref(set);
    }

    if (json) {
        hoopctl_cred_print_json(arr);
    }

done:

    if (r) {
        freeReplyObject(r);
    }

    free(rows);
    free(key);
    hoopctl_store_close(&s);

    return rc;
}


int
hoopctl_credentials(const char *redis, const char *prefix, char **args,
    int nargs, const char *groups, int json)
{
    if (nargs == 2 && strcmp(args[0], "set") == 0) {
        return hoopctl_cred_set(redis, prefix, args[1], groups, json);
    }

    if (groups == NULL && nargs == 2 && strcmp(args[0], "delete") == 0) {
        return hoopctl_cred_change(redis, prefix, args[1], NULL, json);
    }

    if (groups == NULL && nargs == 1 && strcmp(args[0], "list") == 0) {
        return hoopctl_cred_list(redis, prefix, json);
    }

    hoopctl_error("usage: hoopctl credentials set USER [--groups A,B] | "
                  "credentials delete USER | credentials list");
    return HOOPCTL_ERROR;
}
