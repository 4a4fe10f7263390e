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
import java.util.function.Supplier;
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
                new Conversation("proxy demands integrity", "05 01  01 01 0002 6f07  01 02 0002 07 01",
                        clientAuth + clientProtection,
                        new HandshakeOutcome.AuthenticationFailed("SOCKS5 proxy demands GSS-API protection"
                                + " INTEGRITY(0x01) for the relayed stream; chainsocks relays only without"
                                + " per-message protection (NONE(0x00); Dante: gssapi.enctype: clear)")),
                new Conversation("proxy aborts at the protection level", "05 01  01 01 0002 6f07  01 ff",
                        clientAuth + clientProtection,
                        new HandshakeOutcome.AuthenticationFailed("SOCKS5 proxy aborted GSS-API at the protection"
                                + " level: it refuses NONE(0x00) (no per-message protection), which is all"
                                + " chainsocks relays")),
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
        Socks5ClientHandshake client = new Socks5ClientHandshake(GOOGLE, clientContext);
        Supplier<dev.chainsocks.proto.GssapiContext> contexts = () -> serverContext;
        Socks5ServerHandshake server = new Socks5ServerHandshake(Authenticator.NONE, contexts);
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
    void serverAnswersNoneToAClientAskingForIntegrityAndNamesThePrincipal() {
        ScriptedGssapi context = ScriptedGssapi.acceptor(KEY);
        Socks5ServerHandshake server = new Socks5ServerHandshake(Authenticator.NONE, () -> context);
        receiveAndRunSteps(server, context, Hex.buffer("05 01 01  01 01 " + AP_REQ + " 01 02 0002 07 01"
                + " 05 01 00 03 0b 'example.com' 01bb"));
        assertThat(Hex.of(server.outbound())).isEqualTo(Hex.normalized("05 01  01 01 0002 6f07  01 02 0002 07 00"));
        assertThat(server.outcome()).isEqualTo(new ServerOutcome.Request(ServerOutcome.ProxyProtocol.SOCKS5,
                ServerOutcome.Command.CONNECT, Destination.name("example.com", 443), ALICE));
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
}
