package io.flotilla.server.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RateLimitedLogTest {
    @Test
    void oneLinePerEventUpToTheLimitThenTheNextLineCountsWhatWasLeftOut() throws Exception {
        RateLimitedLog limit = new RateLimitedLog(3, 300, TimeUnit.MILLISECONDS);
        List<Long> lines = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            limit.event(lines::add);
        }
        assertThat(lines).as("each of the first three stands for itself; seven were left out").containsExactly(1L, 1L, 1L);
        Thread.sleep(400); // a generous margin past the interval
        limit.event(lines::add);
        limit.event(lines::add);
        assertThat(lines).containsExactly(1L, 1L, 1L, 8L, 1L);
    }

    @Test
    void theDefaultIsTenLinesPerTenSeconds() {
        RateLimitedLog limit = new RateLimitedLog();
        List<Long> lines = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            limit.event(lines::add);
        }
        assertThat(lines).hasSize(10).containsOnly(1L);
        assertThat(RateLimitedLog.INTERVAL_SECONDS).isEqualTo(10);
    }
}
