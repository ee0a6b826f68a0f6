/*
 * hoop-passwd: prints a credential line for the gateway's SASL credential
 * store (src/auth/hoop_credentials.h has the format), for a password read
 * from standard input, so that the gateway never holds the password.
 *
 *   hoop-passwd --user NAME [--groups a,b] [--iterations N]
 *               [--plain-iterations N] [--plain-hash sha256|sha512]
 *               [--mechanisms plain,scram-sha-256,scram-sha-512]
 *
 * The password: from a terminal, asked twice without echo; otherwise the
 * first line of standard input (without its line end).  It is used as
 * its bytes (UTF-8), without SASLprep, as Kafka does.
 *
 *   --iterations N        SCRAM iteration count (default 4096, Kafka's
 *                         default; 4096..1000000, and keep it at most
 *                         16384 for clients built on Kafka's limits or
 *                         65536 for Cyrus SASL-based ones)
 *   --plain-iterations N  PBKDF2 iterations of the PLAIN verifier
 *                         (default: --iterations); each PLAIN login costs
 *                         the gateway this many HMACs
 *   --plain-hash H        PBKDF2 hash of the PLAIN verifier (sha256)
 *   --mechanisms LIST     which credentials to write (all three)
 *
 * Prints one line to standard output, to append to the credential file;
 * replace an existing line of the same user (duplicates are refused).
 * Exit status: 0, 1 on errors, 2 on bad usage.
 *
 * Plain C99 + OpenSSL + jansson; built by tools/Makefile.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "hoop_credentials.h"


#define HOOP_PASSWD_MAX  1024


static void
usage(FILE *f)
{
    fprintf(f,
        "usage: hoop-passwd --user NAME [--groups a,b] [--iterations N]\n"
        "                   [--plain-iterations N] "
        "[--plain-hash sha256|sha512]\n"
        "                   [--mechanisms plain,scram-sha-256,"
        "scram-sha-512]\n"
        "Reads the password from standard input (asked twice on a "
        "terminal)\nand prints a line for the credential file.\n");
}


static int
parse_uint(const char *s, unsigned *out)
{
    char           *end;
    unsigned long   v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-'
        || v > 0xffffffffUL)
    {
        return -1;
    }

    *out = (unsigned) v;
    return 0;
}


/* reads one line (without the line end) into buf[0..size); returns its
 * length, or -1 on error or when too long */
static long
read_line(FILE *f, char *buf, size_t size)
{
    size_t  n;
    int     c;

    n = 0;

    while ((c = getc(f)) != EOF && c != '\n') {
        if (n + 1 >= size) {
            return -1;
        }
        buf[n++] = (char) c;
    }

    if (ferror(f)) {
        return -1;
    }

    if (n > 0 && buf[n - 1] == '\r') {
        n--;
    }

    buf[n] = '\0';

    return (long) n;
}


static long
prompt(const char *text, char *buf, size_t size)
{
    FILE            *tty;
    struct termios   old, quiet;
    long             n;

    tty = fopen("/dev/tty", "r+");
    if (tty == NULL) {
        return -1;
    }

    fputs(text, tty);
    fflush(tty);

    if (tcgetattr(fileno(tty), &old) != 0) {
        fclose(tty);
        return -1;
    }

    quiet = old;
    quiet.c_lflag &= ~(tcflag_t) (ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    tcsetattr(fileno(tty), TCSAFLUSH, &quiet);

    n = read_line(tty, buf, size);

    tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);

    return n;
}


int
main(int argc, char **argv)
{
    static const struct option  opts[] = {
        { "user", required_argument, NULL, 'u' },
        { "groups", required_argument, NULL, 'g' },
        { "iterations", required_argument, NULL, 'i' },
        { "plain-iterations", required_argument, NULL, 'p' },
        { "plain-hash", required_argument, NULL, 'H' },
        { "mechanisms", required_argument, NULL, 'm' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char                 *user, *groups_arg, *mechs_arg;
    char                       *groups_buf, *tok, *save, *line, *mbuf;
    const char                **groups;
    size_t                      ngroups;
    unsigned                    iterations, plain_iterations, mechs;
    int                         c, plain_md, have_plain_iter, rc;
    long                        n, n2;
    char                        pw[HOOP_PASSWD_MAX + 2];
    char                        pw2[HOOP_PASSWD_MAX + 2];
    char                        err[256];

    user = NULL;
    groups_arg = NULL;
    mechs_arg = NULL;
    iterations = HOOP_CRED_ITER_DEFAULT;
    plain_iterations = 0;
    have_plain_iter = 0;
    plain_md = HOOP_CRED_MD_SHA256;
    mechs = HOOP_CRED_WANT_ALL;

    while ((c = getopt_long(argc, argv, "u:g:i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            user = optarg;
            break;
        case 'g':
            groups_arg = optarg;
            break;
        case 'i':
            if (parse_uint(optarg, &iterations) != 0) {
                fprintf(stderr, "hoop-passwd: bad --iterations\n");
                return 2;
            }
            break;
        case 'p':
            if (parse_uint(optarg, &plain_iterations) != 0) {
                fprintf(stderr, "hoop-passwd: bad --plain-iterations\n");
                return 2;
            }
            have_plain_iter = 1;
            break;
        case 'H':
            if (strcmp(optarg, "sha256") == 0) {
                plain_md = HOOP_CRED_MD_SHA256;
            } else if (strcmp(optarg, "sha512") == 0) {
                plain_md = HOOP_CRED_MD_SHA512;
            } else {
                fprintf(stderr, "hoop-passwd: --plain-hash is sha256 or "
                        "sha512\n");
                return 2;
            }
            break;
        case 'm':
            mechs_arg = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }

    if (optind != argc || user == NULL) {
        usage(stderr);
        return 2;
    }

    if (!have_plain_iter) {
        plain_iterations = iterations;
    }

    if (mechs_arg != NULL) {
        mechs = 0;
        mbuf = strdup(mechs_arg);
        if (mbuf == NULL) {
            return 1;
        }

        for (tok = strtok_r(mbuf, ",", &save); tok != NULL;
             tok = strtok_r(NULL, ",", &save))
        {
            if (strcasecmp(tok, "plain") == 0) {
                mechs |= HOOP_CRED_WANT_PLAIN;
            } else if (strcasecmp(tok, "scram-sha-256") == 0) {
                mechs |= HOOP_CRED_WANT_SCRAM_256;
            } else if (strcasecmp(tok, "scram-sha-512") == 0) {
                mechs |= HOOP_CRED_WANT_SCRAM_512;
            } else {
                fprintf(stderr, "hoop-passwd: unknown mechanism \"%s\"\n",
                        tok);
                free(mbuf);
                return 2;
            }
        }

        free(mbuf);

        if (mechs == 0) {
            fprintf(stderr, "hoop-passwd: no mechanism\n");
            return 2;
        }
    }

    /* groups: a,b,c */

    groups_buf = NULL;
    groups = NULL;
    ngroups = 0;

    if (groups_arg != NULL && groups_arg[0] != '\0') {
        groups_buf = strdup(groups_arg);
        groups = calloc(strlen(groups_arg) / 2 + 2, sizeof(char *));
        if (groups_buf == NULL || groups == NULL) {
            fprintf(stderr, "hoop-passwd: out of memory\n");
            return 1;
        }

        tok = groups_buf;
        for ( ;; ) {
            save = strchr(tok, ',');
            if (save != NULL) {
                *save = '\0';
            }

            if (*tok == '\0') {
                fprintf(stderr, "hoop-passwd: empty group name in "
                        "--groups\n");
                return 2;
            }

            groups[ngroups++] = tok;

            if (save == NULL) {
                break;
            }
            tok = save + 1;
        }
    }

    /* the password */

    if (isatty(STDIN_FILENO)) {
        n = prompt("Password: ", pw, sizeof(pw));
        n2 = n < 0 ? -1 : prompt("Again: ", pw2, sizeof(pw2));

        if (n < 0 || n2 < 0) {
            fprintf(stderr, "hoop-passwd: cannot read the password from "
                    "the terminal\n");
            return 1;
        }

        if (n != n2 || memcmp(pw, pw2, (size_t) n) != 0) {
            OPENSSL_cleanse(pw, sizeof(pw));
            OPENSSL_cleanse(pw2, sizeof(pw2));
            fprintf(stderr, "hoop-passwd: the passwords differ\n");
            return 1;
        }

        OPENSSL_cleanse(pw2, sizeof(pw2));

    } else {
        n = read_line(stdin, pw, sizeof(pw));
        if (n < 0) {
            OPENSSL_cleanse(pw, sizeof(pw));
            fprintf(stderr, "hoop-passwd: cannot read the password (at "
                    "most %d bytes, one line)\n", HOOP_PASSWD_MAX);
            return 1;
        }
    }

    if (n == 0 || memchr(pw, '\0', (size_t) n) != NULL) {
        OPENSSL_cleanse(pw, sizeof(pw));
        fprintf(stderr, "hoop-passwd: empty password, or a NUL byte in "
                "it\n");
        return 1;
    }

    line = hoop_cred_entry_create(user, groups, ngroups, (const uint8_t *) pw,
                                  (size_t) n, mechs, iterations,
                                  plain_iterations, plain_md, err,
                                  sizeof(err));

    OPENSSL_cleanse(pw, sizeof(pw));
    free(groups);
    free(groups_buf);

    if (line == NULL) {
        fprintf(stderr, "hoop-passwd: %s\n", err);
        return 1;
    }

    rc = printf("%s\n", line) < 0 || fflush(stdout) != 0;
    free(line);

    if (rc != 0) {
        fprintf(stderr, "hoop-passwd: cannot write: %s\n", strerror(errno));
        return 1;
    }

    return 0;
}
