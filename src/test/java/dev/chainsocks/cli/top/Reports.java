package dev.chainsocks.cli.top;

import dev.chainsocks.chain.ChainState;
import dev.chainsocks.redirect.FailureReason;
import dev.chainsocks.redirect.SessionState;
import dev.chainsocks.service.ConnectionsReport;
import dev.chainsocks.service.ConnectionsReport.Chain;
import dev.chainsocks.service.ConnectionsReport.Connection;
import dev.chainsocks.service.ConnectionsReport.Totals;
import java.util.List;
import java.util.Map;

/** Samples as the service would send them, built by hand for the tests of {@code top}. */
final class Reports {

    private Reports() {
    }

    static Connection connection(long id, String destination, long up, long down, long ageMillis) {
        return new Connection(id, "198.18.1.2:" + (40000 + id), destination, "main[socks5://198.19.2.2:1080]",
                SessionState.RELAY, up, down, ageMillis);
    }

    static Chain chain(String name, ChainState state, long failures, String lastError) {
        return new Chain("0.0.0.0:12345", name, state, 62_000, 10, failures, lastError);
    }

    static ConnectionsReport report(long uptimeMillis, long finishedUp, long finishedDown, List<Connection> live,
                                    List<Chain> chains) {
        long failed = chains.stream().mapToLong(Chain::failures).sum();
        return new ConnectionsReport(uptimeMillis, new Totals(20, live.size(), 18,
                failed == 0 ? Map.of() : Map.of(FailureReason.DIAL, failed), finishedUp, finishedDown), live, chains);
    }
}
