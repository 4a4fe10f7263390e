package dev.chainsocks.proto.ident;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Feeding;
import dev.chainsocks.proto.Hex;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** One query, one response line, and the verdict on a claimed user id. */
class IdentClientTest {

    static Stream<Arguments> answers() {
        return Stream.of(
                Arguments.of("'40000 , 1080 : USERID : UNIX : alice' 0d 0a", "identd confirmed alice"),
                Arguments.of("'40000 , 1080 : USERID : UNIX : bob' 0d 0a",
                        "identd did not confirm: the connection belongs to \"bob\""),
                Arguments.of("'40000 , 1080 : USERID : UNIX : Alice' 0d 0a",
                        "identd did not confirm: the connection belongs to \"Alice\""),
                Arguments.of("'40000 , 1080 : USERID : OTHER : alice' 0d 0a",
                        "identd did not confirm: opsys OTHER is free text, not a user name: \"alice\""),
                Arguments.of("'40000 , 1080 : ERROR : NO-USER' 0d 0a", "identd did not confirm: ERROR NO-USER"),
                Arguments.of("'40001 , 1080 : USERID : UNIX : alice' 0d 0a",
                        "identd did not confirm: identd answered for 40001 , 1080, not for 40000 , 1080"),
                Arguments.of("'40000 , 1080 : USERID' 0d 0a",
                        "identd did not confirm: ident response: expected ':' at byte 21, found the end of the line"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("answers")
    void judgesTheAnswer(String vector, String verdict) {
        for (Feeding feeding : Feeding.values()) {
            IdentClient client = new IdentClient(new IdentQuery(40000, 1080));
            assertThat(Hex.of(Hex.drain(client.outbound()))).isEqualTo(Hex.normalized("'40000 , 1080' 0d 0a"));
            assertThat(client.finished()).isFalse();
            feeding.feed(Hex.bytes(vector), client::receive);
            assertThat(client.finished()).as("%s", feeding).isTrue();
            assertThat(IdentVerdict.judge("alice", client.outcome())).as("%s", feeding).hasToString(verdict);
        }
    }
}
