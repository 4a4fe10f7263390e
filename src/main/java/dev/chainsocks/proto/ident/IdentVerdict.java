package dev.chainsocks.proto.ident;

import java.util.Objects;

/**
 * Whether the client host's identd confirmed the user id a client claimed, in the three ways SOCKS4 can answer:
 * granted (0x5a), identd unreachable (0x5c), identd reports a different user id (0x5d).
 */
public sealed interface IdentVerdict {

    /** identd named exactly the claimed user as the owner of the connection. */
    record Confirmed(String userId) implements IdentVerdict {
        @Override
        public String toString() {
            return "identd confirmed " + userId;
        }
    }

    /** No answer: no connection to identd, a closed connection or no response in time. */
    record Unreachable(String reason) implements IdentVerdict {
        @Override
        public String toString() {
            return "identd unreachable: " + reason;
        }
    }

    /** identd answered, and did not confirm: another user, an ERROR, free text (OTHER), or a broken response. */
    record NotConfirmed(String reason) implements IdentVerdict {
        @Override
        public String toString() {
            return "identd did not confirm: " + reason;
        }
    }

    /**
     * The verdict on {@code claimed} given what identd answered. Only a USERID response whose opsys is not
     * {@code OTHER} and whose id equals the claim exactly (case-sensitive, as Unix names are) confirms.
     */
    public static IdentVerdict judge(String claimed, IdentClient.Outcome outcome) {
        Objects.requireNonNull(claimed, "claimed");
        if (outcome instanceof IdentClient.Outcome.Unusable unusable) {
            return new NotConfirmed(unusable.reason());
        }
        IdentResponse response = ((IdentClient.Outcome.Answered) outcome).response();
        if (response instanceof IdentResponse.Error error) {
            return new NotConfirmed("ERROR " + error.type());
        }
        IdentResponse.UserId named = (IdentResponse.UserId) response;
        if (!named.namesUser()) {
            return new NotConfirmed("opsys OTHER is free text, not a user name: \"" + named.userId() + "\"");
        }
        return named.userId().equals(claimed) ? new Confirmed(claimed)
                : new NotConfirmed("the connection belongs to \"" + named.userId() + "\"");
    }
}
