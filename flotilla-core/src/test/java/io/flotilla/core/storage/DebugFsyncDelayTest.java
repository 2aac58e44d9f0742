package io.flotilla.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The slow-disk testing aid: a lower bound on time is all a test can check without flakiness, and all it needs. */
class DebugFsyncDelayTest {
    @TempDir
    Path dir;

    @AfterEach
    void removeDelay() {
        DebugFsyncDelay.set(Duration.ZERO);
    }

    @Test
    void everyFsyncOfAFileOrADirectoryWaitsTheDelay() throws Exception {
        DebugFsyncDelay.set(Duration.ofMillis(150));
        long start = System.nanoTime();
        FileSync.writeAtomically(dir.resolve("state"), new byte[] {1, 2, 3}, true); // the file, then its directory
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));

        DebugFsyncDelay.set(Duration.ZERO);
        assertThat(FileSync.hook).isSameAs(FileSync.Hook.NONE);
    }

    @Test
    void aNegativeDelayIsRefused() {
        assertThatThrownBy(() -> DebugFsyncDelay.set(Duration.ofMillis(-1))).hasMessageContaining("must not be negative");
    }
}
