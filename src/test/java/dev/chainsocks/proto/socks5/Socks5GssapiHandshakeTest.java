package dev.chainsocks.proto.socks5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.BlockingStep;
import dev.chainsocks.proto.ClientHandshake;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.Feeding;
import dev.chainsocks.proto.HandshakeOutcome;
import dev.chainsocks.proto.Hex;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.ScriptedGssapi;
import dev.chainsocks.proto.ServerHandshake;
import dev.chainsocks.proto.ServerOutcome;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SOCKS5 with the GSS-API method (RFC 1961), both sides, over a scripted mechanism ({@link ScriptedGssapi}): the
 * exact bytes on the wire, the protection level, aborts and mechanism failures. Each blocking step is run the way
 * the event-loop driver runs it, and the handshakes are checked never to call the mechanism outside one.
 */
class Socks5GssapiHandshakeTest {

    static final Destination GOOGLE = ip("66.102.7.99", 80);
    static final String ALICE = "alice@EXAMPLE.TEST";
    static final int KEY = 0x07;
    /** The scripted initiator's first token: GSS-API tag, session key, principal. */
    static final String AP_REQ = "0014 60 07 'alice@EXAMPLE.TEST'";

    static Destination ip(String literal, int port) {
        try {
            return Destination.ip(InetAddress.getByName(literal), port);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Receives, then runs every blocking step the handshake hands out, as the driver does; returns steps run. */
    static int receiveAndRunSteps(ClientHandshake client, ScriptedGssapi context, ByteBuffer in) {
        int steps = 0;
        while (true) {
            int before = context.calls();
            client.receive(in);
            assertThat(context.calls()).as("no mechanism call outside a blocking step").isEqualTo(before);
            BlockingStep<?> step = client.takeBlockingStep();
            if (step == null) {
                return steps;
            }
            step.run();
            step.complete();
            steps++;
        }
    }

    static void receiveAndRunSteps(ServerHandshake server, ScriptedGssapi context, ByteBuffer in) {
        while (true) {
            int before = context.calls();
            server.receive(in);
            assertThat(context.calls()).as("no mechanism call outside a blocking step").isEqualTo(before);
            BlockingStep<?> step = server.takeBlockingStep();
            if (step == null) {
                return;
            }
            step.run();
            step.complete();
        }
    }

    record Conversation(String name, String proxySends, String clientSends, HandshakeOutcome outcome) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Conversation> conversations() {
        String request = "05 01 00 01 42660763 0050";
        String clientAuth = "05 01 01  01 01 " + AP_REQ;
        String clientProtection = "01 02 0002 07 00";
        return List.of(
                new Conversation("authenticated, no per-message protection, granted",
                        "05 01  01 01 0002 6f07  01 02 0002 07 00  05 00 00 01 0a000001 1f90",
                        clientAuth + clientProtection + request,
                        new HandshakeOutcome.Granted(ip("10.0.0.1", 8080))),
                new Conversation("authenticated, then the request refused",
                        "05 01  01 01 0002 6f07  01 02 0002 07 00  05 02 00 01 00000000 0000",
                        clientAuth + clientProtection + request,
                        new HandshakeOutcome.Refused(ReplyStatus.NOT_ALLOWED_BY_RULESET, "NOT_ALLOWED_BY_RULESET(0x02)")),
                new Conversation("proxy aborts the context", "05 01  01 ff", clientAuth,
                        new HandshakeOutcome.AuthenticationFailed("SOCKS5 proxy aborted GSS-API authentication"
                                + " (RFC 1961 abort): it did not accept our scripted initiator " + ALICE)),
                new Conversation("proxy chooses per-message selection (level 3)",
                        "05 01  01 01 0002 6f07  01 02 0002 07 03", clientAuth + clientProtection,
                        new HandshakeOutcome.AuthenticationFailed("SOCKS5 proxy chose GSS-API protection"
                                + " PER_MESSAGE(0x03); chainsocks relays with none, integrity or confidentiality")),
                new Conversation("proxy chooses an unknown level", "05 01  01 01 0002 6f07  01 02 0002 07 2a",
                        clientAuth + clientProtection,
                        new HandshakeOutcome.AuthenticationFailed("SOCKS5 proxy chose GSS-API protection"
                                + " unknown(0x2a); chainsocks relays with none, integrity or confidentiality")),
                new Conversation("proxy aborts at the protection level", "05 01  01 01 0002 6f07  01 ff",
                        clientAuth + clientProtection,
                        new HandshakeOutcome.AuthenticationFailed("SOCKS5 proxy aborted GSS-API at the protection"
                                + " level: it refuses NONE(0x00), which this hop asked for (protection=none)")),
                new Conversation("proxy's mutual authentication token is forged", "05 01  01 01 0002 6f08",
                        clientAuth, new HandshakeOutcome.AuthenticationFailed("GSS-API context establishment with"
                                + " scripted initiator " + ALICE + " failed: mutual authentication failed")),
                new Conversation("proxy's protection level does not verify", "05 01  01 01 0002 6f07  01 02 0002 09 00",
                        clientAuth + clientProtection, new HandshakeOutcome.AuthenticationFailed("GSS-API check of"
                                + " the proxy's protection level message failed: Integrity check on decrypted field"
                                + " failed")),
                new Conversation("proxy sends a protection message instead of a token", "05 01  01 02 0001 00",
                        clientAuth, new HandshakeOutcome.ProtocolError("SOCKS5 GSS-API: expected"
                                + " AUTHENTICATION(0x01), proxy sent PROTECTION(0x02)")),
                new Conversation("proxy speaks another sub-negotiation version", "05 01  05 01 0000", clientAuth,
                        new HandshakeOutcome.ProtocolError("SOCKS5 GSS-API message: version 0x05, expected 0x01")),
                new Conversation("proxy selects username/password, which was not offered", "05 02", "05 01 01",
                        new HandshakeOutcome.ProtocolError("SOCKS5 method selection: proxy chose"
                                + " USERNAME_PASSWORD(0x02), which was not offered")));
    }

    static Stream<Arguments> conversationsFedEveryWay() {
        return conversations().stream().flatMap(c -> Stream.of(Feeding.values()).map(f -> Arguments.of(c, f)));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("conversationsFedEveryWay")
    void clientConversations(Conversation conversation, Feeding feeding) {
        ScriptedGssapi context = ScriptedGssapi.initiator(ALICE, KEY);
        Socks5ClientHandshake client = new Socks5ClientHandshake(GOOGLE, context);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        sent.writeBytes(Hex.drain(client.outbound()));
        boolean early = feeding == Feeding.WITH_EARLY_DATA
                && conversation.outcome() instanceof HandshakeOutcome.Granted;
        byte[] proxy = Hex.bytes(conversation.proxySends());
        ByteBuffer left = (early ? feeding : feeding == Feeding.WITH_EARLY_DATA ? Feeding.WHOLE : feeding)
                .feed(proxy, in -> {
                    receiveAndRunSteps(client, context, in);
                    sent.writeBytes(Hex.drain(client.outbound()));
                });
        assertThat(client.outcome()).isEqualTo(conversation.outcome());
        assertThat(Hex.of(sent.toByteArray())).isEqualTo(Hex.normalized(conversation.clientSends()));
        if (!(conversation.outcome() instanceof HandshakeOutcome.ProtocolError)) {
            assertThat(left.remaining()).as("everything the proxy sent was consumed").isZero();
        }
        if (context.calls() > 0) {
            assertThat(context.disposed()).as("context released at the end of the method").isTrue();
        }
    }

    @Test
    void aClientWithoutCredentialsFailsNamingTheMechanismsReason() {
        ScriptedGssapi context = ScriptedGssapi.initiatorWithoutCredentials();
        Socks5ClientHandshake client = new Socks5ClientHandshake(GOOGLE, context);
        Hex.drain(client.outbound());
        receiveAndRunSteps(client, context, Hex.buffer("05 01"));
        assertThat(client.outcome()).isInstanceOf(HandshakeOutcome.AuthenticationFailed.class);
        assertThat(client.outcome().toString()).contains("No valid credentials provided");
        assertThat(client.outbound().remaining()).as("nothing more is sent").isZero();
    }

    @Test
    void noStepIsHandedOutTwiceAndNoneBeforeTheMethodIsSelected() {
        ScriptedGssapi context = ScriptedGssapi.initiator(ALICE, KEY);
        Socks5ClientHandshake client = new Socks5ClientHandshake(GOOGLE, context);
        assertThat(client.takeBlockingStep()).isNull();
        client.receive(Hex.buffer("05 01"));
        assertThat(client.takeBlockingStep()).isNotNull();
        assertThat(client.takeBlockingStep()).isNull();
        assertThat(context.calls()).isZero();
    }

    // --- server side ---

    record Ends(ServerOutcome server, HandshakeOutcome client, String serverSent) {
    }

    /** Our client against our server, both with scripted contexts; the server grants any request. */
    static Ends converse(ScriptedGssapi clientContext, ScriptedGssapi serverContext) {
        return converse(new Socks5ClientHandshake(GOOGLE, clientContext), clientContext,
                new Socks5ServerHandshake(Authenticator.NONE, () -> serverContext), serverContext);
    }

    static Ends converse(Socks5ClientHandshake client, ScriptedGssapi clientContext, Socks5ServerHandshake server,
            ScriptedGssapi serverContext) {
        ByteBuffer toServer = ByteBuffer.allocate(1 << 12);
        ByteBuffer toClient = ByteBuffer.allocate(1 << 12);
        ByteArrayOutputStream serverSent = new ByteArrayOutputStream();
        for (int round = 0; round < 10 && client.outcome() == null && !(server.outcome()
                instanceof ServerOutcome.Rejected); round++) {
            toServer.put(client.outbound()).flip();
            receiveAndRunSteps(server, serverContext, toServer);
            toServer.compact();
            if (server.outcome() instanceof ServerOutcome.Request) {
                server.reply(ReplyStatus.SUCCEEDED, ip("10.0.0.1", 40000));
            }
            byte[] answer = Hex.drain(server.outbound());
            serverSent.writeBytes(answer);
            toClient.put(answer).flip();
            receiveAndRunSteps(client, clientContext, toClient);
            toClient.compact();
        }
        return new Ends(server.outcome(), client.outcome(), Hex.of(serverSent.toByteArray()));
    }

    @Test
    void ourClientAuthenticatesToOurServerWhichLearnsThePrincipal() {
        ScriptedGssapi serverContext = ScriptedGssapi.acceptor(KEY);
        Ends ends = converse(ScriptedGssapi.initiator(ALICE, KEY), serverContext);
        assertThat(ends.client()).isEqualTo(new HandshakeOutcome.Granted(ip("10.0.0.1", 40000)));
        assertThat(ends.server()).isEqualTo(new ServerOutcome.Request(ServerOutcome.ProxyProtocol.SOCKS5,
                ServerOutcome.Command.CONNECT, GOOGLE, ALICE));
        assertThat(ends.serverSent()).isEqualTo(Hex.normalized(
                "05 01  01 01 0002 6f07  01 02 0002 07 00  05 00 00 01 0a000001 9c40"));
        assertThat(serverContext.disposed()).isTrue();
    }

    @Test
    void aTicketForAnotherKeyIsAbortedAndRejected() {
        Ends ends = converse(ScriptedGssapi.initiator(ALICE, KEY), ScriptedGssapi.acceptor(0x42));
        assertThat(ends.server()).isEqualTo(new ServerOutcome.Rejected("GSS-API authentication failed: Checksum failed"));
        assertThat(ends.serverSent()).isEqualTo(Hex.normalized("05 01  01 ff"));
        assertThat(ends.client()).isInstanceOf(HandshakeOutcome.AuthenticationFailed.class);
    }

    @Test
    void serverAnswersNoneToAClientAskingForNoneAndNamesThePrincipal() {
        ScriptedGssapi context = ScriptedGssapi.acceptor(KEY);
        Socks5ServerHandshake server = new Socks5ServerHandshake(Authenticator.NONE, () -> context);
        receiveAndRunSteps(server, context, Hex.buffer("05 01 01  01 01 " + AP_REQ + " 01 02 0002 07 00"
                + " 05 01 00 03 0b 'example.com' 01bb"));
        assertThat(Hex.of(server.outbound())).isEqualTo(Hex.normalized("05 01  01 01 0002 6f07  01 02 0002 07 00"));
        assertThat(server.outcome()).isEqualTo(new ServerOutcome.Request(ServerOutcome.ProxyProtocol.SOCKS5,
                ServerOutcome.Command.CONNECT, Destination.name("example.com", 443), ALICE));
        assertThat(server.protectedStream()).isNull();
    }

    @Test
    void withGssapiConfiguredNoClientGoesUnauthenticated() {
        ScriptedGssapi context = ScriptedGssapi.acceptor(KEY);
        Socks5ServerHandshake server = new Socks5ServerHandshake(Authenticator.NONE, () -> context);
        server.receive(Hex.buffer("05 01 00"));
        assertThat(Hex.of(server.outbound())).isEqualTo(Hex.normalized("05 ff"));
        assertThat(server.outcome()).isInstanceOf(ServerOutcome.Rejected.class);
    }

    @Test
    void serverAbortsAProtectionMessageThatDoesNotVerify() {
        ScriptedGssapi context = ScriptedGssapi.acceptor(KEY);
        Socks5ServerHandshake server = new Socks5ServerHandshake(Authenticator.NONE, () -> context);
        receiveAndRunSteps(server, context, Hex.buffer("05 01 01  01 01 " + AP_REQ + " 01 02 0002 08 00"));
        assertThat(Hex.of(server.outbound())).isEqualTo(Hex.normalized("05 01  01 01 0002 6f07  01 ff"));
        assertThat(server.outcome()).isEqualTo(new ServerOutcome.Rejected("GSS-API protection level negotiation"
                + " failed: Integrity check on decrypted field failed"));
    }

    @Test
    void serverTakesAClientAbortAsTheEnd() {
        ScriptedGssapi context = ScriptedGssapi.acceptor(KEY);
        Socks5ServerHandshake server = new Socks5ServerHandshake(Authenticator.NONE, () -> context);
        receiveAndRunSteps(server, context, Hex.buffer("05 01 01  01 ff"));
        assertThat(server.outcome()).isEqualTo(new ServerOutcome.Rejected(
                "client aborted GSS-API authentication (RFC 1961 abort)"));
        assertThat(Hex.of(server.outbound())).isEqualTo(Hex.normalized("05 01"));
    }

    // --- per-message protection (RFC 1961 sections 4.3 and 5) ---

    static Stream<Arguments> levels() {
        Socks5GssapiProtection none = Socks5GssapiProtection.NONE;
        Socks5GssapiProtection integrity = Socks5GssapiProtection.INTEGRITY;
        Socks5GssapiProtection confidentiality = Socks5GssapiProtection.CONFIDENTIALITY;
        return Stream.of(
                Arguments.of(none, none, none),
                Arguments.of(integrity, none, integrity),
                Arguments.of(confidentiality, none, confidentiality),
                Arguments.of(none, integrity, integrity), // the server insists on more: the client takes it
                Arguments.of(integrity, confidentiality, confidentiality),
                Arguments.of(confidentiality, integrity, confidentiality));
    }

    @ParameterizedTest(name = "client requires {0}, server at least {1}: {2}")
    @MethodSource("levels")
    void clientAndServerAgreeALevelAndTheStreamAfterTheHandshakeTravelsInIt(Socks5GssapiProtection required,
            Socks5GssapiProtection minimum, Socks5GssapiProtection agreed) throws Exception {
        ScriptedGssapi clientContext = ScriptedGssapi.initiator(ALICE, KEY);
        ScriptedGssapi serverContext = ScriptedGssapi.acceptor(KEY);
        Socks5ClientHandshake client = new Socks5ClientHandshake(GOOGLE, clientContext, required);
        Socks5ServerHandshake server = new Socks5ServerHandshake(Authenticator.NONE, () -> serverContext, minimum);
        Ends ends = converse(client, clientContext, server, serverContext);
        assertThat(ends.client()).isEqualTo(new HandshakeOutcome.Granted(ip("10.0.0.1", 40000)));
        assertThat(ends.server()).isEqualTo(new ServerOutcome.Request(ServerOutcome.ProxyProtocol.SOCKS5,
                ServerOutcome.Command.CONNECT, GOOGLE, ALICE));
        String reply = "05 00 00 01 0a000001 9c40";
        if (agreed == Socks5GssapiProtection.NONE) {
            assertThat(client.protectedStream()).isNull();
            assertThat(server.protectedStream()).isNull();
            assertThat(ends.serverSent()).endsWith(Hex.normalized("01 02 0002 07 00" + reply));
            return;
        }
        assertThat(ends.serverSent()).as("the reply travels as a protected message").contains(Hex.normalized(
                "01 02 0002 07 0" + agreed.byteValue() + " 01 03 000d 07 0" + (agreed.byteValue() - 1)));
        if (agreed == Socks5GssapiProtection.CONFIDENTIALITY) {
            assertThat(ends.serverSent()).as("and encrypted").doesNotContain(Hex.normalized(reply));
        }
        dev.chainsocks.proto.StreamProtection clientSide = client.protectedStream().protection();
        dev.chainsocks.proto.StreamProtection serverSide = server.protectedStream().protection();
        assertThat(clientSide.name()).isEqualTo(serverSide.name())
                .isEqualTo("gssapi-" + agreed.name().toLowerCase(java.util.Locale.ROOT));
        ByteBuffer wire = clientSide.protect(Hex.buffer("'GET / HTTP/1.0'"));
        assertThat(Hex.of(Hex.drain(((dev.chainsocks.proto.Decoded.Message<ByteBuffer>) serverSide.unprotect(wire))
                .message()))).isEqualTo(Hex.normalized("'GET / HTTP/1.0'"));
        assertThat(clientContext.disposed()).as("the context lives on in the protection").isFalse();
    }

    @Test
    void aServerChoosingLessThanTheHopRequiresIsRefusedSayingSo() {
        ScriptedGssapi context = ScriptedGssapi.initiator(ALICE, KEY);
        Socks5ClientHandshake client = new Socks5ClientHandshake(GOOGLE, context,
                Socks5GssapiProtection.CONFIDENTIALITY);
        Hex.drain(client.outbound());
        receiveAndRunSteps(client, context, Hex.buffer("05 01  01 01 0002 6f07  01 02 0002 07 01"));
        assertThat(client.outcome()).isEqualTo(new HandshakeOutcome.AuthenticationFailed("SOCKS5 proxy chose"
                + " GSS-API protection INTEGRITY(0x01), less than the CONFIDENTIALITY(0x02) this hop requires"
                + " (protection=confidentiality)"));
        assertThat(context.disposed()).isTrue();
    }

    /**
     * The proxy's reply split over two protected messages, the second also holding the destination's first bytes,
     * followed by a third message the handshake must leave alone: fed whole and byte by byte.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = Feeding.class, names = {"WHOLE", "BYTE_BY_BYTE"})
    void aProtectedReplyMaySpanMessagesAndEarlyDataIsHandedOnUnprotected(Feeding feeding) {
        ScriptedGssapi context = ScriptedGssapi.initiator(ALICE, KEY);
        Socks5ClientHandshake client = new Socks5ClientHandshake(GOOGLE, context, Socks5GssapiProtection.INTEGRITY);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        sent.writeBytes(Hex.drain(client.outbound()));
        // 05 00 00 01 0a000001 | 1f90 'hi' ; scripted token: KEY 00 MESSAGE SUM
        String proxy = "05 01  01 01 0002 6f07  01 02 0002 07 01"
                + " 01 03 000b 07 00 05000001 0a000001 11"
                + " 01 03 0007 07 00 1f90 'hi' 80"
                + " 01 03 0004 07 00 'x' 78";
        ByteBuffer left = feeding.feed(Hex.bytes(proxy), in -> {
            receiveAndRunSteps(client, context, in);
            sent.writeBytes(Hex.drain(client.outbound()));
        });
        assertThat(client.outcome()).isEqualTo(new HandshakeOutcome.Granted(ip("10.0.0.1", 8080)));
        assertThat(Hex.of(left)).as("the next message is the relay's").isEqualTo(Hex.normalized(
                "01 03 0004 07 00 'x' 78"));
        assertThat(Hex.of(client.protectedStream().plaintext())).isEqualTo(Hex.normalized("'hi'"));
        assertThat(Hex.of(sent.toByteArray())).as("the request went protected").endsWith(Hex.normalized(
                "01 02 0002 07 01  01 03 000d 07 00 05 01 00 01 42660763 0050 69"));
    }

    @Test
    void aCorruptProtectedReplyIsAProtocolErrorNamingTheProtection() {
        ScriptedGssapi context = ScriptedGssapi.initiator(ALICE, KEY);
        Socks5ClientHandshake client = new Socks5ClientHandshake(GOOGLE, context, Socks5GssapiProtection.INTEGRITY);
        Hex.drain(client.outbound());
        receiveAndRunSteps(client, context, Hex.buffer("05 01  01 01 0002 6f07  01 02 0002 07 01"
                + " 01 03 000d 07 00 05000001 0a000001 1f90 00"));
        assertThat(client.outcome()).isEqualTo(new HandshakeOutcome.ProtocolError("gssapi-integrity: SOCKS5 GSS-API"
                + " encapsulated message: GSS-API unwrap failed: Checksum failed"));
        assertThat(context.disposed()).isTrue();
    }

    @Test
    void withProtectionTheServerServesOnlyConnectAndAnswersInsideIt() {
        ScriptedGssapi context = ScriptedGssapi.acceptor(KEY);
        Socks5ServerHandshake server = new Socks5ServerHandshake(Authenticator.NONE, () -> context,
                Socks5GssapiProtection.INTEGRITY);
        // BIND 0.0.0.0:0 inside one protected message: 05 02 00 01 00000000 0000, sum 0x08
        receiveAndRunSteps(server, context, Hex.buffer("05 01 01  01 01 " + AP_REQ + " 01 02 0002 07 00"
                + " 01 03 000d 07 00 05 02 00 01 00000000 0000 08"));
        assertThat(server.outcome()).isEqualTo(new ServerOutcome.Rejected("BIND with GSS-API INTEGRITY(0x01): only"
                + " CONNECT is relayed with per-message protection"));
        assertThat(Hex.of(server.outbound())).isEqualTo(Hex.normalized("05 01  01 01 0002 6f07  01 02 0002 07 01"
                + " 01 03 000d 07 00 05 07 00 01 00000000 0000 0d"));
        assertThat(context.disposed()).isTrue();
    }

    @Test
    void theServerKeepsWhatTheClientPipelinedInsideTheRequestsMessage() {
        ScriptedGssapi context = ScriptedGssapi.acceptor(KEY);
        Socks5ServerHandshake server = new Socks5ServerHandshake(Authenticator.NONE, () -> context,
                Socks5GssapiProtection.NONE);
        // CONNECT 66.102.7.99:80 then 'GET' in one message; another message follows for the relay
        ByteBuffer in = Hex.buffer("05 01 01  01 01 " + AP_REQ + " 01 02 0002 07 01"
                + " 01 03 0010 07 00 05 01 00 01 42660763 0050 'GET' 49"
                + " 01 03 0004 07 00 ' ' 20");
        receiveAndRunSteps(server, context, in);
        assertThat(server.outcome()).isEqualTo(new ServerOutcome.Request(ServerOutcome.ProxyProtocol.SOCKS5,
                ServerOutcome.Command.CONNECT, GOOGLE, ALICE));
        assertThat(Hex.of(server.protectedStream().plaintext())).isEqualTo(Hex.normalized("'GET'"));
        assertThat(server.protectedStream().protection().name()).isEqualTo("gssapi-integrity");
        assertThat(Hex.of(in)).isEqualTo(Hex.normalized("01 03 0004 07 00 ' ' 20"));
    }
}
