package dev.chainsocks.proto;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in GSS-API mechanism with Kerberos' shape, for the handshake state machines: the initiator's first token
 * names its principal and a session key; the acceptor checks the key it was given (as a keytab would), answers with
 * a mutual-authentication token, and both are established. {@code wrap} prefixes the key, {@code unwrap} checks
 * it, so a tampered or foreign token fails as a real mechanism's would. Counts calls, so tests can prove the
 * handshake makes none itself outside a {@link BlockingStep}.
 */
public final class ScriptedGssapi implements GssapiContext {

    public enum Role { INITIATOR, ACCEPTOR }

    private final Role role;
    private final String principal;
    private final byte key;
    private final AtomicInteger calls = new AtomicInteger();
    private boolean established;
    private String peer;
    private boolean disposed;

    private ScriptedGssapi(Role role, String principal, byte key) {
        this.role = role;
        this.principal = principal;
        this.key = key;
    }

    /** A client {@code principal} holding session key {@code key}. */
    public static ScriptedGssapi initiator(String principal, int key) {
        return new ScriptedGssapi(Role.INITIATOR, principal, (byte) key);
    }

    /** A server that accepts tickets sealed with {@code key}. */
    public static ScriptedGssapi acceptor(int key) {
        return new ScriptedGssapi(Role.ACCEPTOR, "rcmd/proxy.example@EXAMPLE.TEST", (byte) key);
    }

    /** Both ends of an established context on {@code key}, as after a successful handshake. */
    public static ScriptedGssapi[] establishedPair(int key) {
        ScriptedGssapi initiator = initiator("alice@EXAMPLE.TEST", key);
        ScriptedGssapi acceptor = acceptor(key);
        try {
            initiator.step(acceptor.step(initiator.step(new byte[0])));
        } catch (GssapiException e) {
            throw new AssertionError(e);
        }
        return new ScriptedGssapi[] {initiator, acceptor};
    }

    /** A client with no ticket and no keytab: its first step fails as Kerberos' does. */
    public static ScriptedGssapi initiatorWithoutCredentials() {
        return new ScriptedGssapi(Role.INITIATOR, null, (byte) 0);
    }

    @Override
    public byte[] step(byte[] peerToken) throws GssapiException {
        calls.incrementAndGet();
        if (role == Role.INITIATOR && principal == null) {
            throw new GssapiException("No valid credentials provided (Mechanism level: Failed to find any Kerberos tgt)");
        }
        if (role == Role.INITIATOR) {
            if (peerToken.length == 0) {
                byte[] name = principal.getBytes(StandardCharsets.UTF_8);
                byte[] token = new byte[name.length + 2];
                token[0] = 0x60;
                token[1] = key;
                System.arraycopy(name, 0, token, 2, name.length);
                return token;
            }
            if (!Arrays.equals(peerToken, new byte[] {0x6f, key})) {
                throw new GssapiException("mutual authentication failed");
            }
            established = true;
            return new byte[0];
        }
        if (peerToken.length < 2 || peerToken[0] != 0x60) {
            throw new GssapiException("Defective token detected");
        }
        if (peerToken[1] != key) {
            throw new GssapiException("Checksum failed");
        }
        peer = new String(peerToken, 2, peerToken.length - 2, StandardCharsets.UTF_8);
        established = true;
        return new byte[] {0x6f, key};
    }

    @Override
    public boolean established() {
        return established;
    }

    @Override
    public byte[] wrap(byte[] message) throws GssapiException {
        calls.incrementAndGet();
        requireEstablished();
        byte[] token = new byte[message.length + 1];
        token[0] = key;
        System.arraycopy(message, 0, token, 1, message.length);
        return token;
    }

    @Override
    public byte[] unwrap(byte[] token) throws GssapiException {
        calls.incrementAndGet();
        requireEstablished();
        if (token.length < 1 || token[0] != key) {
            throw new GssapiException("Integrity check on decrypted field failed");
        }
        return Arrays.copyOfRange(token, 1, token.length);
    }

    /**
     * Token: key, 1 if confidential else 0, then the message (each byte XOR 0x5a when confidential), then a one-byte
     * sum of the message as a checksum, so a flipped bit fails as a real mechanism's check would.
     */
    @Override
    public byte[] wrapMessage(byte[] message, boolean confidential) throws GssapiException {
        requireEstablished();
        byte[] token = new byte[message.length + 3];
        token[0] = key;
        token[1] = (byte) (confidential ? 1 : 0);
        byte sum = 0;
        for (int i = 0; i < message.length; i++) {
            token[i + 2] = (byte) (confidential ? message[i] ^ 0x5a : message[i]);
            sum += message[i];
        }
        token[token.length - 1] = sum;
        return token;
    }

    @Override
    public Unwrapped unwrapMessage(byte[] token) throws GssapiException {
        requireEstablished();
        if (token.length < 3 || token[0] != key || (token[1] & 0xfe) != 0) {
            throw new GssapiException("GSS-API unwrap failed: Defective token detected");
        }
        boolean confidential = token[1] == 1;
        byte[] message = new byte[token.length - 3];
        byte sum = 0;
        for (int i = 0; i < message.length; i++) {
            message[i] = (byte) (confidential ? token[i + 2] ^ 0x5a : token[i + 2]);
            sum += message[i];
        }
        if (sum != token[token.length - 1]) {
            throw new GssapiException("GSS-API unwrap failed: Checksum failed");
        }
        return new Unwrapped(message, confidential);
    }

    @Override
    public int wrapSizeLimit(boolean confidential, int maxToken) {
        return maxToken - 3;
    }

    @Override
    public String peerName() throws GssapiException {
        requireEstablished();
        return role == Role.ACCEPTOR ? peer : "rcmd/proxy.example@EXAMPLE.TEST";
    }

    private void requireEstablished() throws GssapiException {
        if (!established) {
            throw new GssapiException("context not established");
        }
    }

    @Override
    public void dispose() {
        disposed = true;
    }

    public int calls() {
        return calls.get();
    }

    public boolean disposed() {
        return disposed;
    }

    @Override
    public String toString() {
        return "scripted " + role.name().toLowerCase(java.util.Locale.ROOT) + " " + principal;
    }
}
