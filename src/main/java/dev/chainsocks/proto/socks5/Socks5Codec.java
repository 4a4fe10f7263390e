package dev.chainsocks.proto.socks5;

import static dev.chainsocks.proto.ProtocolCode.hex;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.WireReader;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes and decodes every SOCKS5 handshake message, both sides:
 *
 * <pre>
 * greeting          (RFC 1928 s3)  VER=5 NMETHODS(1..255) METHODS
 * method selection  (RFC 1928 s3)  VER=5 METHOD
 * password request  (RFC 1929 s2)  VER=1 ULEN(1..255) UNAME PLEN(1..255) PASSWD
 * password response (RFC 1929 s2)  VER=1 STATUS
 * request           (RFC 1928 s4)  VER=5 CMD RSV ATYP DST.ADDR DST.PORT
 * reply             (RFC 1928 s6)  VER=5 REP RSV ATYP BND.ADDR BND.PORT
 * </pre>
 *
 * Addresses (RFC 1928 s5) are IPv4 (4 bytes), IPv6 (16 bytes) or DOMAIN (a length byte 1..255, then the name).
 * The reserved byte is written as 0 and tolerated when not. Decoders follow the {@link Decoded} contract; a request
 * with an unknown command or address type is malformed with the fault COMMAND_NOT_SUPPORTED or
 * ADDRESS_TYPE_NOT_SUPPORTED, which is what a server should reply.
 */
public final class Socks5Codec {

    public static final int VERSION = 0x05;
    /** The version byte of the RFC 1929 sub-negotiation, not of SOCKS. */
    public static final int PASSWORD_AUTH_VERSION = 0x01;

    private Socks5Codec() {
    }

    public static ByteBuffer encodeGreeting(Socks5Greeting greeting) {
        ByteBuffer out = ByteBuffer.allocate(2 + greeting.methods().size());
        out.put((byte) VERSION).put((byte) greeting.methods().size());
        greeting.methods().forEach(method -> out.put((byte) (int) method));
        return out.flip();
    }

    public static Decoded<Socks5Greeting> decodeGreeting(ByteBuffer in) {
        return WireReader.decode(in, r -> {
            expectVersion(r, "SOCKS5 greeting");
            int count = r.u8();
            if (count == 0) {
                throw r.fail("SOCKS5 greeting: no methods offered (NMETHODS 0x00)");
            }
            List<Integer> methods = new ArrayList<>(count);
            for (byte method : r.bytes(count)) {
                methods.add(method & 0xff);
            }
            return new Socks5Greeting(methods);
        });
    }

    public static ByteBuffer encodeMethodSelection(Socks5MethodSelection selection) {
        return ByteBuffer.allocate(2).put((byte) VERSION).put(selection.method().byteValue()).flip();
    }

    public static Decoded<Socks5MethodSelection> decodeMethodSelection(ByteBuffer in) {
        return WireReader.decode(in, r -> {
            expectVersion(r, "SOCKS5 method selection");
            int method = r.u8();
            return new Socks5MethodSelection(Socks5AuthMethod.fromByte(method)
                    .orElseThrow(() -> r.fail("SOCKS5 method selection: unknown method " + hex(method))));
        });
    }

    public static ByteBuffer encodePasswordAuthRequest(Socks5PasswordAuthRequest request) {
        byte[] username = request.username().getBytes(StandardCharsets.UTF_8);
        byte[] password = request.password().getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(3 + username.length + password.length)
                .put((byte) PASSWORD_AUTH_VERSION)
                .put((byte) username.length).put(username)
                .put((byte) password.length).put(password)
                .flip();
    }

    public static Decoded<Socks5PasswordAuthRequest> decodePasswordAuthRequest(ByteBuffer in) {
        return WireReader.decode(in, r -> {
            expectPasswordAuthVersion(r, "RFC 1929 request");
            String username = r.utf8(r.bytes(nonZeroLength(r, "RFC 1929 request: username")), "RFC 1929 username");
            String password = r.utf8(r.bytes(nonZeroLength(r, "RFC 1929 request: password")), "RFC 1929 password");
            return new Socks5PasswordAuthRequest(username, password);
        });
    }

    public static ByteBuffer encodePasswordAuthResponse(Socks5PasswordAuthResponse response) {
        return ByteBuffer.allocate(2).put((byte) PASSWORD_AUTH_VERSION).put(response.status().byteValue()).flip();
    }

    /** Any STATUS other than 0x00 is a failure (RFC 1929 section 2). */
    public static Decoded<Socks5PasswordAuthResponse> decodePasswordAuthResponse(ByteBuffer in) {
        return WireReader.decode(in, r -> {
            expectPasswordAuthVersion(r, "RFC 1929 response");
            return new Socks5PasswordAuthResponse(
                    r.u8() == 0 ? Socks5PasswordAuthStatus.SUCCESS : Socks5PasswordAuthStatus.FAILURE);
        });
    }

    public static ByteBuffer encodeRequest(Socks5Request request) {
        ByteBuffer out = ByteBuffer.allocate(3 + addressLength(request.destination()));
        out.put((byte) VERSION).put(request.command().byteValue()).put((byte) 0);
        writeAddress(out, request.destination());
        return out.flip();
    }

    public static Decoded<Socks5Request> decodeRequest(ByteBuffer in) {
        return WireReader.decode(in, r -> {
            expectVersion(r, "SOCKS5 request");
            int commandByte = r.u8();
            Socks5Command command = Socks5Command.fromByte(commandByte)
                    .orElseThrow(() -> r.fail("SOCKS5 request: unknown command " + hex(commandByte),
                            ReplyStatus.COMMAND_NOT_SUPPORTED));
            r.u8(); // RSV
            return new Socks5Request(command, readAddress(r, "SOCKS5 request"));
        });
    }

    public static ByteBuffer encodeReply(Socks5Reply reply) {
        ByteBuffer out = ByteBuffer.allocate(3 + addressLength(reply.bound()));
        out.put((byte) VERSION).put(reply.code().byteValue()).put((byte) 0);
        writeAddress(out, reply.bound());
        return out.flip();
    }

    public static Decoded<Socks5Reply> decodeReply(ByteBuffer in) {
        return WireReader.decode(in, r -> {
            expectVersion(r, "SOCKS5 reply");
            int codeByte = r.u8();
            Socks5ReplyCode code = Socks5ReplyCode.fromByte(codeByte)
                    .orElseThrow(() -> r.fail("SOCKS5 reply: unknown reply code " + hex(codeByte)));
            r.u8(); // RSV
            return new Socks5Reply(code, readAddress(r, "SOCKS5 reply"));
        });
    }

    /** ATYP + address + port. */
    static int addressLength(Destination destination) {
        if (destination instanceof Destination.Name name) {
            return 1 + 1 + name.host().getBytes(StandardCharsets.UTF_8).length + 2;
        }
        return 1 + ((Destination.Ip) destination).address().getAddress().length + 2;
    }

    static void writeAddress(ByteBuffer out, Destination destination) {
        if (destination instanceof Destination.Name name) {
            byte[] host = name.host().getBytes(StandardCharsets.UTF_8); // 1..255 bytes, checked by Name
            out.put(Socks5AddressType.DOMAIN.byteValue()).put((byte) host.length).put(host);
        } else {
            InetAddress address = ((Destination.Ip) destination).address();
            Socks5AddressType type = address instanceof Inet4Address ? Socks5AddressType.IPV4 : Socks5AddressType.IPV6;
            out.put(type.byteValue()).put(address.getAddress());
        }
        out.putShort((short) destination.port());
    }

    static Destination readAddress(WireReader r, String message) {
        int typeByte = r.u8();
        Socks5AddressType type = Socks5AddressType.fromByte(typeByte)
                .orElseThrow(() -> r.fail(message + ": unknown address type " + hex(typeByte),
                        ReplyStatus.ADDRESS_TYPE_NOT_SUPPORTED));
        switch (type) {
            case IPV4 -> {
                InetAddress address = r.ipv4();
                return new Destination.Ip(address, r.u16());
            }
            case IPV6 -> {
                InetAddress address = r.ipv6();
                return new Destination.Ip(address, r.u16());
            }
            case DOMAIN -> {
                int length = r.u8();
                if (length == 0) {
                    throw r.fail(message + ": empty domain name (length 0x00)");
                }
                byte[] host = r.bytes(length);
                for (byte b : host) {
                    if (b == 0) {
                        throw r.fail(message + ": domain name contains byte 0x00");
                    }
                }
                String name = r.utf8(host, message + ": domain name");
                return new Destination.Name(name, r.u16());
            }
            default -> throw new AssertionError(type);
        }
    }

    private static void expectVersion(WireReader r, String message) {
        int version = r.u8();
        if (version != VERSION) {
            throw r.fail(message + ": unsupported version " + hex(version) + ", expected 0x05");
        }
    }

    private static void expectPasswordAuthVersion(WireReader r, String message) {
        int version = r.u8();
        if (version != PASSWORD_AUTH_VERSION) {
            throw r.fail(message + ": unsupported sub-negotiation version " + hex(version) + ", expected 0x01");
        }
    }

    private static int nonZeroLength(WireReader r, String field) {
        int length = r.u8();
        if (length == 0) {
            throw r.fail(field + " length 0x00, must be 1..255");
        }
        return length;
    }
}
