package dev.chainsocks.control;

/**
 * Answers one control command, e.g. {@code status}, {@code status --json}, {@code connections}, {@code reload}.
 * The {@link ControlServer} calls it on its {@code control-handler-N} threads, so two requests (a {@code status}
 * during a {@code reload}) may be answered at the same time.
 */
@FunctionalInterface
public interface ControlHandler {

    /**
     * The response text for one request line (without its line break).
     *
     * @throws Exception any failure; the client receives {@code error: <message>}
     */
    String handle(String command) throws Exception;
}
