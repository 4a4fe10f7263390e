package dev.chainsocks.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.chainsocks.chain.ProxyHopFuzzTest;
import dev.chainsocks.config.ConfigLoaderFuzzTest;
import dev.chainsocks.proto.dns.DnsFuzzTest;
import dev.chainsocks.proto.http.HttpFuzzTest;
import dev.chainsocks.proto.ident.IdentFuzzTest;
import dev.chainsocks.proto.socks4.Socks4FuzzTest;
import dev.chainsocks.proto.sniff.ServerNameSnifferFuzzTest;
import dev.chainsocks.proto.socks5.Socks5FuzzTest;
import dev.chainsocks.server.ProtocolSnifferFuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every in-memory fuzz target behind one entry point, for the short fuzzing run CI does: Jazzer fuzzes one
 * {@code @FuzzTest} per JVM, and one JVM fuzzing all targets for a few seconds costs less than a JVM per target.
 * The last input byte picks the target (modulo the number of targets), the rest is that target's input; its seeds
 * are every target's seeds with that byte appended. The control socket is left out: it does I/O per input and its
 * own target is fuzzed by {@code native-scripts/fuzz.sh}.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public class AllParsersFuzzTest {

    /** One target: its test class and method (where its seeds are) and how to run it. */
    record Target(Class<?> testClass, String method, Consumer<byte[]> run) {
        Path seeds() {
            URL url = testClass.getResource(testClass.getSimpleName() + "Inputs/" + method);
            if (url == null) {
                throw new IllegalStateException("no seed directory for " + this);
            }
            try {
                return Path.of(url.toURI());
            } catch (URISyntaxException e) {
                throw new IllegalStateException(url.toString(), e);
            }
        }

        @Override
        public String toString() {
            return testClass.getSimpleName() + "." + method;
        }
    }

    static final List<Target> TARGETS = targets();

    private static List<Target> targets() {
        Socks4FuzzTest socks4 = new Socks4FuzzTest();
        Socks5FuzzTest socks5 = new Socks5FuzzTest();
        HttpFuzzTest http = new HttpFuzzTest();
        return List.of(
                new Target(Socks4FuzzTest.class, "request", socks4::request),
                new Target(Socks4FuzzTest.class, "reply", socks4::reply),
                new Target(Socks4FuzzTest.class, "serverHandshake", socks4::serverHandshake),
                new Target(Socks4FuzzTest.class, "clientHandshake", socks4::clientHandshake),
                new Target(Socks5FuzzTest.class, "greeting", socks5::greeting),
                new Target(Socks5FuzzTest.class, "methodSelection", socks5::methodSelection),
                new Target(Socks5FuzzTest.class, "passwordAuthRequest", socks5::passwordAuthRequest),
                new Target(Socks5FuzzTest.class, "passwordAuthResponse", socks5::passwordAuthResponse),
                new Target(Socks5FuzzTest.class, "request", socks5::request),
                new Target(Socks5FuzzTest.class, "reply", socks5::reply),
                new Target(Socks5FuzzTest.class, "udpDatagram", socks5::udpDatagram),
                new Target(Socks5FuzzTest.class, "serverHandshake", socks5::serverHandshake),
                new Target(Socks5FuzzTest.class, "clientHandshake", socks5::clientHandshake),
                new Target(HttpFuzzTest.class, "requestHead", http::requestHead),
                new Target(HttpFuzzTest.class, "responseHead", http::responseHead),
                new Target(HttpFuzzTest.class, "proxyServerHandshake", http::proxyServerHandshake),
                new Target(HttpFuzzTest.class, "connectClientHandshake", http::connectClientHandshake),
                new Target(ProtocolSnifferFuzzTest.class, "sniffedServer",
                        new ProtocolSnifferFuzzTest()::sniffedServer),
                new Target(ProxyHopFuzzTest.class, "uri", new ProxyHopFuzzTest()::uri),
                new Target(ConfigLoaderFuzzTest.class, "toml", new ConfigLoaderFuzzTest()::toml),
                new Target(IdentFuzzTest.class, "query", new IdentFuzzTest()::query),
                new Target(IdentFuzzTest.class, "response", new IdentFuzzTest()::response),
                new Target(Socks5FuzzTest.class, "gssapiMessage", socks5::gssapiMessage),
                new Target(DnsFuzzTest.class, "message", new DnsFuzzTest()::message),
                new Target(ServerNameSnifferFuzzTest.class, "sniff", new ServerNameSnifferFuzzTest()::sniff),
                new Target(Socks5FuzzTest.class, "gssapiEncapsulation", socks5::gssapiEncapsulation));
    }

    /** Input: a target's input, then one byte choosing the target (its index in {@link #TARGETS}). */
    @MethodSource("seeds")
    @FuzzTest(maxDuration = "20s")
    public void anyParser(byte[] input) {
        FuzzInput in = FuzzInput.of(input);
        TARGETS.get(in.choose(TARGETS.size())).run().accept(in.rest());
    }

    static Stream<Arguments> seeds() {
        return IntStream.range(0, TARGETS.size()).boxed().flatMap(index -> {
            Target target = TARGETS.get(index);
            try (Stream<Path> files = Files.list(target.seeds())) {
                return files.sorted().toList().stream().map(file -> Arguments.of(Named.of(
                        target + " " + file.getFileName(), withTarget(read(file), index))));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static byte[] withTarget(byte[] seed, int index) {
        byte[] input = Arrays.copyOf(seed, seed.length + 1);
        input[seed.length] = (byte) index;
        return input;
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
