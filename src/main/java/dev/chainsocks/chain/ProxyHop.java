package dev.chainsocks.chain;

import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.socks5.Socks5GssapiProtection;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One proxy in a chain, as written in a URI: {@code socks5://alice:secret@198.18.1.2:1080}.
 *
 * <p>Accepted forms are {@code socks4://[userid@]host:port}, {@code socks4a://[userid@]host:port},
 * {@code socks5://[user:password@]host:port}, {@code socks5h://[user:password@]host:port} and
 * {@code http://[user:password@]host:port} (HTTP CONNECT with Basic authentication). The host is a DNS name, an
 * IPv4 literal or a bracketed IPv6 literal and is never resolved here; the port is required. Percent-encoding in
 * the user and password is decoded ({@code %40} is {@code @}, {@code %3A} is {@code :}).
 *
 * <p>{@link #toString()} hides the password ({@code socks5://alice:***@198.18.1.2:1080}), so a hop can go into any
 * log line or error message as it is.
 *
 * @param protocol how chainsocks talks to this proxy
 * @param address  the proxy's own host and port: a {@link Destination.Name} or, for literals, a
 *                 {@link Destination.Ip}
 * @param user     the SOCKS4 userid or the SOCKS5/HTTP user name, 1..255 bytes
 * @param password the SOCKS5/HTTP password, 1..255 bytes for SOCKS5 (present only with a user)
 * @param gssapi   how a {@code socks5+gssapi} hop authenticates (present exactly for that scheme), from the URI's
 *                 query: {@code ?service=rcmd&principal=...&keytab=...} or {@code &ccache=...}
 */
public record ProxyHop(HopProtocol protocol, Destination address, Optional<String> user, Optional<String> password,
        Optional<GssapiHopOptions> gssapi) {

    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern NUMERIC = Pattern.compile("[0-9.]+");
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");
    private static final String FORM = "scheme://[user[:password]@]host:port";
    private static final String GSSAPI_FORM = "socks5+gssapi://host:port[?service=rcmd[/host]][&principal=NAME]"
            + "[&keytab=/path | &ccache=/path][&protection=none|integrity|confidentiality]";

    /** Checks the combination of protocol and credentials; see the class comment for the rules. */
    public ProxyHop {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(gssapi, "gssapi");
        if (gssapi.isPresent() != (protocol == HopProtocol.SOCKS5_GSSAPI)) {
            throw new IllegalArgumentException("GSS-API options go with " + HopProtocol.SOCKS5_GSSAPI
                    + " and only with it");
        }
        if (user.isPresent() && protocol == HopProtocol.SOCKS5_GSSAPI) {
            throw new IllegalArgumentException(protocol + " authenticates with Kerberos, not a user name");
        }
        gssapi.filter(g -> !g.servicePrincipalGiven() && address instanceof Destination.Ip).ifPresent(g -> {
            throw new IllegalArgumentException("the proxy is given by address, so its Kerberos service principal"
                    + " cannot be derived; write service=" + g.service() + "/<proxy host name>");
        });
        if (address.port() < 1) {
            throw new IllegalArgumentException("proxy port must be 1..65535, got " + address.port());
        }
        if (password.isPresent() && user.isEmpty()) {
            throw new IllegalArgumentException("a password needs a user");
        }
        if (password.isPresent() && !protocol.acceptsPassword()) {
            throw new IllegalArgumentException(protocol + " carries a userid only, not a password");
        }
        user.ifPresent(u -> checkCredential("user", u, protocol));
        password.ifPresent(p -> checkCredential("password", p, protocol));
    }

    /** A hop that is not {@code socks5+gssapi}. */
    public ProxyHop(HopProtocol protocol, Destination address, Optional<String> user, Optional<String> password) {
        this(protocol, address, user, password, Optional.empty());
    }

    /** A hop without credentials (GSS-API with its defaults for {@code socks5+gssapi}). */
    public static ProxyHop of(HopProtocol protocol, Destination address) {
        return new ProxyHop(protocol, address, Optional.empty(), Optional.empty(),
                protocol == HopProtocol.SOCKS5_GSSAPI ? Optional.of(GssapiHopOptions.defaults()) : Optional.empty());
    }

    /**
     * Parses a hop URI.
     *
     * @throws IllegalArgumentException naming what is wrong, the URI with its password replaced by {@code ***}
     *                                  and what to write instead
     */
    public static ProxyHop parse(String uri) {
        Objects.requireNonNull(uri, "uri");
        String shown = redact(uri);
        int schemeEnd = uri.indexOf("://");
        if (schemeEnd < 0) {
            throw invalid("missing scheme", shown, "write " + FORM + " with scheme " + HopProtocol.validSchemes());
        }
        String scheme = uri.substring(0, schemeEnd);
        HopProtocol protocol = HopProtocol.fromScheme(scheme).orElseThrow(() -> invalid(
                "unknown scheme \"" + scheme + "\"", shown, "use " + HopProtocol.validSchemes()));
        String rest = uri.substring(schemeEnd + 3);
        String query = null;
        if (protocol == HopProtocol.SOCKS5_GSSAPI && rest.indexOf('?') >= 0) {
            // The query may hold '@' (principal=alice@REALM): take it off before looking for user information.
            query = rest.substring(rest.indexOf('?') + 1);
            rest = rest.substring(0, rest.indexOf('?'));
        }

        int at = rest.lastIndexOf('@');
        String rawUserInfo = at >= 0 ? rest.substring(0, at) : null;
        String afterUserInfo = rest.substring(at + 1);
        int pathStart = indexOfAny(afterUserInfo, "/?#");
        String hostPort = pathStart >= 0 ? afterUserInfo.substring(0, pathStart) : afterUserInfo;
        Optional<GssapiHopOptions> gssapi = Optional.empty();
        if (protocol == HopProtocol.SOCKS5_GSSAPI) {
            String tail = pathStart >= 0 ? afterUserInfo.substring(pathStart) : "";
            if (!tail.isEmpty() && !tail.equals("/")) {
                throw invalid("unexpected path or fragment \"" + tail + "\"", shown,
                        "a GSS-API hop is " + GSSAPI_FORM);
            }
            gssapi = Optional.of(parseGssapiOptions(query == null ? "" : query, shown));
        } else if (pathStart >= 0 && !afterUserInfo.substring(pathStart).equals("/")) {
            throw invalid("unexpected path, query or fragment \"" + afterUserInfo.substring(pathStart) + "\"", shown,
                    "a proxy URI is " + FORM + " and nothing else");
        }

        Optional<String> user = Optional.empty();
        Optional<String> password = Optional.empty();
        if (rawUserInfo != null && protocol == HopProtocol.SOCKS5_GSSAPI) {
            throw invalid("user information not allowed", shown, "a GSS-API hop authenticates with Kerberos: name"
                    + " the client with principal= in the query, " + GSSAPI_FORM);
        }
        if (rawUserInfo != null) {
            int colon = rawUserInfo.indexOf(':');
            String rawUser = colon >= 0 ? rawUserInfo.substring(0, colon) : rawUserInfo;
            if (rawUser.isEmpty()) {
                throw invalid("empty user", shown, "write user" + (protocol.acceptsPassword() ? ":password" : "")
                        + "@ before the host, or leave the credentials out");
            }
            user = Optional.of(percentDecode(rawUser, shown));
            if (colon >= 0) {
                if (!protocol.acceptsPassword()) {
                    throw invalid("password not allowed", shown, "SOCKS4 and SOCKS4a carry a userid only; remove"
                            + " \":password\" or use socks5://");
                }
                String rawPassword = rawUserInfo.substring(colon + 1);
                if (rawPassword.isEmpty() && !protocol.isHttp()) {
                    throw invalid("empty password", shown, "SOCKS5 authentication needs a password of 1..255 bytes");
                }
                password = Optional.of(percentDecode(rawPassword, shown));
            } else if (protocol.acceptsPassword() && !protocol.isHttp()) {
                throw invalid("missing password", shown, "SOCKS5 authentication needs user:password@; percent-encode"
                        + " ':' and '@' in them as %3A and %40");
            }
        }

        Destination address = parseHostPort(hostPort, shown, protocol);
        try {
            return new ProxyHop(protocol, address, user, password, gssapi);
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage(), shown, gssapi.isPresent() ? GSSAPI_FORM : "fix the credentials");
        }
    }

    /** For a {@code socks5+gssapi} hop, the proxy's Kerberos service principal, e.g. {@code rcmd/proxy.example}. */
    public Optional<String> gssapiServicePrincipal() {
        return gssapi.map(g -> g.servicePrincipal(address instanceof Destination.Name name ? name.host() : null));
    }

    /** The hop as a URI with the password replaced by {@code ***}. */
    @Override
    public String toString() {
        return uri(false);
    }

    /**
     * The hop as a URI that {@link #parse(String)} reads back, with user and password percent-encoded where needed.
     *
     * @param revealPassword {@code false} writes {@code ***} instead of the password, for anything that is shown
     */
    public String uri(boolean revealPassword) {
        StringBuilder out = new StringBuilder(protocol.scheme()).append("://");
        user.ifPresent(u -> {
            out.append(percentEncode(u));
            password.ifPresent(p -> out.append(':').append(revealPassword ? percentEncode(p) : "***"));
            out.append('@');
        });
        out.append(address);
        gssapi.ifPresent(g -> {
            out.append("?service=").append(percentEncode(g.service(), "/@"));
            g.principal().ifPresent(p -> out.append("&principal=").append(percentEncode(p, "/@")));
            g.keytab().ifPresent(p -> out.append("&keytab=").append(percentEncode(p.toString(), "/")));
            g.credentialCache().ifPresent(p -> out.append("&ccache=").append(percentEncode(p.toString(), "/")));
            if (g.protects()) {
                out.append("&protection=").append(g.protectionName());
            }
        });
        return out.toString();
    }

    /**
     * The query of a {@code socks5+gssapi} hop: keys service, principal, keytab, ccache, protection, each at most
     * once.
     */
    private static GssapiHopOptions parseGssapiOptions(String query, String shown) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String pair : query.isEmpty() ? new String[0] : query.split("&", -1)) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            if (!List.of("service", "principal", "keytab", "ccache", "protection").contains(key)) {
                throw invalid("unknown option \"" + key + "\"", shown, "the options are service, principal, keytab,"
                        + " ccache and protection: " + GSSAPI_FORM);
            }
            if (eq < 0 || eq == pair.length() - 1) {
                throw invalid("option " + key + " without a value", shown, "write " + key + "=value");
            }
            if (values.put(key, percentDecode(pair.substring(eq + 1), shown)) != null) {
                throw invalid("option " + key + " given twice", shown, "give each option once");
            }
        }
        String protection = values.getOrDefault("protection", "none");
        Socks5GssapiProtection level = GssapiHopOptions.protectionNamed(protection).orElseThrow(() -> invalid(
                "protection \"" + protection + "\" is not a protection level", shown,
                "write protection=none, protection=integrity or protection=confidentiality"));
        try {
            return new GssapiHopOptions(values.getOrDefault("service", GssapiHopOptions.DEFAULT_SERVICE),
                    Optional.ofNullable(values.get("principal")),
                    Optional.ofNullable(values.get("keytab")).map(Path::of),
                    Optional.ofNullable(values.get("ccache")).map(Path::of), level);
        } catch (IllegalArgumentException e) { // InvalidPathException included
            throw invalid(e.getMessage(), shown, GSSAPI_FORM);
        }
    }

    /** Replaces the password part of a (possibly invalid) proxy URI by {@code ***}, for error messages. */
    static String redact(String uri) {
        int query = uri.indexOf('?');
        if (uri.regionMatches(true, 0, HopProtocol.SOCKS5_GSSAPI.scheme() + "://", 0,
                HopProtocol.SOCKS5_GSSAPI.scheme().length() + 3) && query >= 0) {
            return redact(uri.substring(0, query)) + uri.substring(query); // a GSS-API query holds no password
        }
        int start = uri.indexOf("://");
        start = start < 0 ? 0 : start + 3;
        int at = uri.lastIndexOf('@');
        if (at < start) {
            return uri;
        }
        int colon = uri.indexOf(':', start);
        if (colon < 0 || colon > at) {
            return uri;
        }
        return uri.substring(0, colon + 1) + "***" + uri.substring(at);
    }

    private static Destination parseHostPort(String hostPort, String shown, HopProtocol protocol) {
        String host;
        String portText;
        String example = protocol.scheme() + "://proxy.example:1080";
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            if (close < 0) {
                throw invalid("unclosed '[' in the host", shown, "write an IPv6 address as [2001:db8::1]:1080");
            }
            host = hostPort.substring(1, close);
            String after = hostPort.substring(close + 1);
            if (after.isEmpty()) {
                throw invalid("missing port", shown, "write [address]:port, e.g. " + protocol.scheme()
                        + "://[2001:db8::1]:1080");
            }
            if (!after.startsWith(":")) {
                throw invalid("unexpected \"" + after + "\" after the IPv6 address", shown, "write [address]:port");
            }
            portText = after.substring(1);
            if (!IPV6_CHARS.matcher(host).matches() || !host.contains(":")) {
                throw invalid("invalid IPv6 address \"" + host + "\"", shown,
                        "write an IPv6 literal without zone, e.g. [2001:db8::1]");
            }
            InetAddress literal;
            try {
                literal = InetAddress.getByName(host);
            } catch (UnknownHostException e) {
                throw invalid("invalid IPv6 address \"" + host + "\"", shown, "write an IPv6 literal, e.g. [2001:db8::1]");
            }
            return Destination.ip(literal, parsePort(portText, shown, example));
        }
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            throw invalid("missing port", shown, "write host:port, e.g. " + example);
        }
        host = hostPort.substring(0, colon);
        portText = hostPort.substring(colon + 1);
        if (host.contains(":")) {
            throw invalid("IPv6 address without brackets", shown, "write " + protocol.scheme()
                    + "://[2001:db8::1]:1080");
        }
        if (host.isEmpty()) {
            throw invalid("missing host", shown, "write host:port, e.g. " + example);
        }
        int port = parsePort(portText, shown, example);
        if (IPV4.matcher(host).matches()) {
            try {
                return Destination.ip(InetAddress.getByName(host), port);
            } catch (UnknownHostException e) {
                throw new IllegalStateException("IPv4 literal not accepted: " + host, e);
            }
        }
        if (NUMERIC.matcher(host).matches()) {
            throw invalid("invalid IPv4 address \"" + host + "\"", shown, "write four numbers 0..255, e.g. 198.18.1.2");
        }
        if (host.length() > 253 || !HOST_NAME.matcher(host).matches()) {
            throw invalid("invalid host name \"" + host + "\"", shown,
                    "use a DNS name (ASCII, punycode for others), an IPv4 address or a bracketed IPv6 address");
        }
        return Destination.name(host, port);
    }

    private static int parsePort(String text, String shown, String example) {
        if (text.isEmpty()) {
            throw invalid("missing port", shown, "write host:port, e.g. " + example);
        }
        if (text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw invalid("invalid port \"" + text + "\"", shown, "use a number 1..65535");
        }
        int port = Integer.parseInt(text);
        if (port < 1 || port > 65535) {
            throw invalid("port " + port + " out of range", shown, "use 1..65535");
        }
        return port;
    }

    private static void checkCredential(String what, String value, HopProtocol protocol) {
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(what + " contains NUL");
        }
        if (bytes > 255) {
            throw new IllegalArgumentException(what + " is " + bytes + " bytes, more than the 255 " + protocol
                    + " allows");
        }
        if (bytes == 0 && (what.equals("user") || !protocol.isHttp())) {
            throw new IllegalArgumentException(what + " is empty");
        }
    }

    private static String percentDecode(String raw, String shown) {
        if (raw.indexOf('%') < 0) {
            return raw;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                int value = i + 2 < raw.length() ? hex(raw.charAt(i + 1)) << 4 | hex(raw.charAt(i + 2)) : -1;
                if (value < 0) {
                    throw invalid("bad percent-encoding in the credentials", shown,
                            "write %XX with two hex digits, e.g. %40 for @ and %25 for %");
                }
                bytes.write(value);
                i += 2;
            } else {
                byte[] encoded = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(encoded, 0, encoded.length);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw invalid("percent-encoded credentials are not UTF-8", shown, "encode the UTF-8 bytes of each character");
        }
    }

    private static int hex(char c) {
        int digit = Character.digit(c, 16);
        return digit < 0 ? -0x1000 : digit;
    }

    private static String percentEncode(String value) {
        return percentEncode(value, "");
    }

    /** Percent-encodes all but unreserved characters and {@code keep}. */
    private static String percentEncode(String value, String keep) {
        StringBuilder out = new StringBuilder();
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0
                    || keep.indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }

    private static int indexOfAny(String text, String chars) {
        for (int i = 0; i < text.length(); i++) {
            if (chars.indexOf(text.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    private static IllegalArgumentException invalid(String problem, String shownUri, String hint) {
        return new IllegalArgumentException(problem + " in \"" + shownUri + "\" (" + hint + ")");
    }
}
