package hoop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;

import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.auth.SaslExtensionsCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;

/**
 * OAUTHBEARER login callback handler of the test driver: the token is whatever the file named by the
 * JAAS option {@code hoopTokenFile} holds, read again at every login and every refresh (the client's
 * refresh thread logs in again at about 80% of the token's lifetime; KIP-368 re-authentication then
 * sends the new token). The token is NOT checked: expired, unsigned or otherwise bad tokens are sent
 * as they are, so tests can see the server refuse them. Claims are read only to tell the client
 * library the token's lifetime ({@code exp}, or one hour from now when absent), start ({@code iat})
 * and principal ({@code sub}); Kafka's own OAuthBearerLoginCallbackHandler would refuse such tokens.
 */
public final class FileTokenLoginCallbackHandler implements AuthenticateCallbackHandler {

    static final String OPTION = "hoopTokenFile";
    private String file;

    @Override
    public void configure(Map<String, ?> configs, String saslMechanism, List<AppConfigurationEntry> jaasConfigEntries) {
        for (AppConfigurationEntry e : jaasConfigEntries) {
            Object f = e.getOptions().get(OPTION);
            if (f != null) file = f.toString();
        }
        if (file == null)
            throw new IllegalArgumentException("JAAS option " + OPTION + " (the token file) is missing");
    }

    @Override
    public void handle(Callback[] callbacks) throws IOException, UnsupportedCallbackException {
        for (Callback cb : callbacks) {
            if (cb instanceof OAuthBearerTokenCallback) {
                String jwt = new String(Files.readAllBytes(Paths.get(file)), StandardCharsets.UTF_8).trim();
                FileToken t = FileToken.parse(jwt);
                if (tokenDebug())
                    System.err.println("hoop-token: read " + file + ": sub=" + t.principalName() + " exp="
                        + t.lifetimeMs() / 1000 + " (" + jwt.length() + " chars)");
                ((OAuthBearerTokenCallback) cb).token(t);
            } else if (cb instanceof SaslExtensionsCallback) {
                // no SASL extensions
            } else {
                throw new UnsupportedCallbackException(cb);
            }
        }
    }

    @Override
    public void close() {
    }

    /** HOOP_CLIENT_TOKEN_DEBUG=1 or --debug: one stderr line per token read. */
    static boolean tokenDebug() {
        String e = System.getenv("HOOP_CLIENT_TOKEN_DEBUG");
        return (e != null && !e.isEmpty() && !e.equals("0")) || Boolean.getBoolean("hoop.debug");
    }

    /** The token as the client library sees it. */
    static final class FileToken implements OAuthBearerToken {
        private final String value;
        private final String principal;
        private final long lifetimeMs;
        private final Long startMs;
        private final Set<String> scope;

        private FileToken(String value, String principal, long lifetimeMs, Long startMs, Set<String> scope) {
            this.value = value;
            this.principal = principal;
            this.lifetimeMs = lifetimeMs;
            this.startMs = startMs;
            this.scope = scope;
        }

        static FileToken parse(String jwt) {
            String claims = "";
            String[] parts = jwt.split("\\.", -1);
            if (parts.length >= 2) {
                try {
                    claims = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    claims = "";   // not base64url: send it anyway
                }
            }
            // flat claims only (what t/bin/mint-jwt writes); no JSON library on the driver's classpath
            String sub = stringClaim(claims, "sub");
            Double exp = numberClaim(claims, "exp");
            Double iat = numberClaim(claims, "iat");
            String scopeClaim = stringClaim(claims, "scope");
            Set<String> scope = new LinkedHashSet<>();
            if (scopeClaim != null)
                for (String s : scopeClaim.split(" ")) if (!s.isEmpty()) scope.add(s);
            long life = exp != null ? (long) (exp * 1000) : System.currentTimeMillis() + 3600_000L;
            return new FileToken(jwt, sub != null ? sub : "unknown", life,
                iat != null ? (long) (iat * 1000) : null, Collections.unmodifiableSet(scope));
        }

        static String stringClaim(String json, String name) {
            Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
            return m.find() ? m.group(1).replace("\\\"", "\"").replace("\\\\", "\\") : null;
        }

        static Double numberClaim(String json, String name) {
            Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*(-?[0-9]+(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)")
                .matcher(json);
            return m.find() ? Double.valueOf(m.group(1)) : null;
        }

        @Override public String value() { return value; }
        @Override public Set<String> scope() { return scope; }
        @Override public long lifetimeMs() { return lifetimeMs; }
        @Override public String principalName() { return principal; }
        @Override public Long startTimeMs() { return startMs; }
    }
}
