package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StatusReporterTest {
    @Test
    void aNodeIsBehindOnlyBeyondTheConfiguredLag() {
        assertThat(StatusReporter.lagProblem(100, 100, 0)).isEmpty();
        assertThat(StatusReporter.lagProblem(90, 100, 10)).isEmpty();
        assertThat(StatusReporter.lagProblem(89, 100, 10))
                .isEqualTo("applied index 89 trails the leader's commit index 100 by 11 entries (more than --health-max-lag 10)");
    }

    @Test
    void theVersionComesFromTheBuild() {
        assertThat(StatusReporter.VERSION).matches("\\d+\\.\\d+\\.\\d+.*");
    }
}
