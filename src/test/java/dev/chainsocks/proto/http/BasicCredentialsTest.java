package dev.chainsocks.proto.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code Proxy-Authorization} values and what {@link BasicCredentials#parse} makes of them. */
class BasicCredentialsTest {

    /** "fred:secret" */
    private static final String FRED = "ZnJlZDpzZWNyZXQ=";

    static Stream<Arguments> values() {
        return Stream.of(
                // value, user or null for none, password
                Arguments.of("Basic " + FRED, "fred", "secret"),
                Arguments.of("basic " + FRED, "fred", "secret"),
                Arguments.of("BASIC " + FRED, "fred", "secret"),
                Arguments.of("Basic   " + FRED, "fred", "secret"),
                Arguments.of("Basic\t" + FRED, "fred", "secret"),
                Arguments.of("Basic \t " + FRED, "fred", "secret"),
                Arguments.of("  Basic " + FRED + "  ", "fred", "secret"),
                Arguments.of("Basic " + FRED + "\t", "fred", "secret"),
                Arguments.of("Basic \n" + FRED, "fred", "secret"),
                // "a:b:c": the password keeps its colons
                Arguments.of("Basic YTpiOmM=", "a", "b:c"),
                // ":": empty user and password
                Arguments.of("Basic Og==", "", ""),
                // "\u00e9:x" in UTF-8
                Arguments.of("Basic w6k6eA==", "\u00e9", "x"),
                Arguments.of("Basic", null, null),
                Arguments.of("Basic ", null, null),
                Arguments.of("", null, null),
                Arguments.of("   ", null, null),
                Arguments.of("Basic" + FRED, null, null),
                Arguments.of("Basicx " + FRED, null, null),
                Arguments.of("Basi " + FRED, null, null),
                Arguments.of("Bearer " + FRED, null, null),
                Arguments.of("Digest username=\"fred\"", null, null),
                Arguments.of("Basic\u00a0" + FRED, null, null),
                Arguments.of("Basic !!!!", null, null),
                Arguments.of("Basic " + FRED + " extra", null, null),
                // "fred" without a colon
                Arguments.of("Basic ZnJlZA==", null, null));
    }

    @ParameterizedTest
    @MethodSource("values")
    void parses(String value, String user, String password) {
        Optional<BasicCredentials> parsed = BasicCredentials.parse(value);
        if (user == null) {
            assertThat(parsed).as(value).isEmpty();
        } else {
            assertThat(parsed).as(value).contains(new BasicCredentials(user, password));
        }
    }

    @Test
    void headerValueParsesBack() {
        BasicCredentials credentials = new BasicCredentials("fred", "se:cret \u00e9");
        assertThat(BasicCredentials.parse(credentials.headerValue())).contains(credentials);
    }
}
