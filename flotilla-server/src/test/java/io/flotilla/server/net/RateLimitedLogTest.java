package io.flotilla.server.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RateLimitedLogTest {
    @Test
    void oneLinePerEventUpToTheLimitThenTheNextLineCountsWhatWasLeftOut() {
        long[] now = {0};
        RateLimitedLog limit = new RateLimitedLog(3, 300, TimeUnit.MILLISECONDS, () -> now[0]);
        List<Long> lines = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            limit.event(lines::add);
        }
        assertThat(lines).as("each of the first three stands for itself; seven were left out").containsExactly(1L, 1L, 1L);
        now[0] += TimeUnit.MILLISECONDS.toNanos(299);
        limit.event(lines::add);
        assertThat(lines).as("still within the interval").hasSize(3);
        now[0] += TimeUnit.MILLISECONDS.toNanos(1);
        limit.event(lines::add);
        limit.event(lines::add);
        assertThat(lines).containsExactly(1L, 1L, 1L, 9L, 1L);
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
