package dev.chainsocks.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StartupReloadTest {

    @Test
    void aReloadAskedForWhileStartingIsDoneOnceStarted() {
        RunCommand.StartupReload<String> reloads = new RunCommand.StartupReload<>();
        assertThat(reloads.requested()).as("nothing to reload yet").isEmpty();
        assertThat(reloads.requested()).isEmpty();
        assertThat(reloads.started("service")).as("the remembered reload, once").contains("service");
        assertThat(reloads.requested()).as("after the start, at once").contains("service");
    }

    @Test
    void withoutAReloadWhileStartingNothingIsReloadedAtStart() {
        RunCommand.StartupReload<String> reloads = new RunCommand.StartupReload<>();
        assertThat(reloads.started("service")).isEmpty();
        assertThat(reloads.requested()).contains("service");
    }
}
