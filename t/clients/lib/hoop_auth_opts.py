"""Authentication and TLS options shared by the Python-side drivers (python/hoop_client.py and
kcat/hoop_kcat.py). Standard library only. The Java driver implements the same rules
(HoopClient.checkSecurity); t/clients/README.md documents them.
"""

PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")


def add_arguments(ap):
    ap.add_argument("--security-protocol")
    ap.add_argument("--sasl-mechanism")
    ap.add_argument("--sasl-user")
    ap.add_argument("--sasl-password")
    ap.add_argument("--sasl-password-file")
    ap.add_argument("--token-file")
    ap.add_argument("--ssl-ca")
    ap.add_argument("--ssl-cert")
    ap.add_argument("--ssl-key")
    ap.add_argument("--ssl-key-password")
    ap.add_argument("--ssl-keystore")
    ap.add_argument("--ssl-keystore-password")
    ap.add_argument("--ssl-truststore")
    ap.add_argument("--ssl-truststore-password")
    ap.add_argument("--ssl-no-hostname-check", action="store_true")


def read_text(path, what, usage):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise usage("%s %s: %s" % (what, path, e))


def check(a, usage):
    """Validate; set a.security_protocol when implied; read --sasl-password-file into
    a.sasl_password. `usage` is the exception class for usage errors (exit 2)."""
    ssl = any((a.ssl_ca, a.ssl_cert, a.ssl_key, a.ssl_keystore, a.ssl_truststore, a.ssl_no_hostname_check))
    if a.sasl_mechanism is not None and a.sasl_mechanism not in MECHANISMS:
        raise usage("--sasl-mechanism must be PLAIN|SCRAM-SHA-256|SCRAM-SHA-512|OAUTHBEARER")
    if a.security_protocol is None:
        if a.sasl_mechanism:
            a.security_protocol = "SASL_SSL" if ssl else "SASL_PLAINTEXT"
        elif ssl:
            a.security_protocol = "SSL"
    elif a.security_protocol not in PROTOCOLS:
        raise usage("--security-protocol must be PLAINTEXT|SASL_PLAINTEXT|SSL|SASL_SSL")
    sasl_proto = (a.security_protocol or "").startswith("SASL_")
    if sasl_proto and not a.sasl_mechanism:
        raise usage("--security-protocol %s needs --sasl-mechanism" % a.security_protocol)
    if a.sasl_mechanism and not sasl_proto:
        raise usage("--sasl-mechanism needs --security-protocol SASL_PLAINTEXT or SASL_SSL")
    if (a.ssl_cert is None) != (a.ssl_key is None):
        raise usage("--ssl-cert and --ssl-key go together")
    if a.ssl_cert and a.ssl_keystore:
        raise usage("--ssl-keystore and --ssl-cert/--ssl-key exclude each other")
    if a.ssl_ca and a.ssl_truststore:
        raise usage("--ssl-truststore and --ssl-ca exclude each other")
    if a.sasl_password is not None and a.sasl_password_file is not None:
        raise usage("--sasl-password and --sasl-password-file exclude each other")
    if not a.sasl_mechanism:
        if a.sasl_user or a.sasl_password is not None or a.sasl_password_file or a.token_file:
            raise usage("--sasl-user/--sasl-password/--token-file need --sasl-mechanism")
    elif a.sasl_mechanism == "OAUTHBEARER":
        if not a.token_file:
            raise usage("--sasl-mechanism OAUTHBEARER needs --token-file")
        if a.sasl_user or a.sasl_password is not None or a.sasl_password_file:
            raise usage("OAUTHBEARER takes --token-file, not --sasl-user/--sasl-password")
        read_text(a.token_file, "--token-file", usage)
    else:
        if not a.sasl_user or (a.sasl_password is None and not a.sasl_password_file):
            raise usage("--sasl-mechanism %s needs --sasl-user and --sasl-password (or --sasl-password-file)"
                        % a.sasl_mechanism)
        if a.token_file:
            raise usage("--token-file is for OAUTHBEARER only")
    if a.sasl_password_file:
        a.sasl_password = read_text(a.sasl_password_file, "--sasl-password-file", usage).rstrip("\r\n")
    for f, what in ((a.ssl_ca, "--ssl-ca"), (a.ssl_cert, "--ssl-cert"), (a.ssl_key, "--ssl-key"),
                    (a.ssl_keystore, "--ssl-keystore"), (a.ssl_truststore, "--ssl-truststore")):
        if f:
            try:
                open(f, "rb").close()
            except OSError as e:
                raise usage("%s %s: %s" % (what, f, e))
