package io.flotilla.core.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a real writer process with SIGKILL at random moments (mid-write, mid-sync, mid-rollover) and
 * checks that every entry it acknowledged after a sync is there after the restart, with its content.
 * Each run also begins by overwriting whatever the previous run wrote but never acknowledged, so
 * durable truncation is killed mid-way too.
 */
class CrashDurabilityTest {
    private static final int KILLS = 5;
    private static final long RUN_TIMEOUT_MILLIS = 30_000;

    @TempDir
    Path dir;
    @TempDir
    Path childOutput;

    @Test
    void everyAcknowledgedEntrySurvivesSigkill() throws Exception {
        SplittableRandom random = new SplittableRandom(42);
        TreeMap<Long, Long> ackedTerms = new TreeMap<>();
        long acked = 0;
        for (int run = 1; run <= KILLS; run++) {
            ChildJvm child = ChildJvm.start(CrashWriter.class, childOutput, dir.toString(), String.valueOf(run), String.valueOf(acked));
            int killAfter = 20 + random.nextInt(300);
            int acks = 0;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RUN_TIMEOUT_MILLIS);
            List<String> lines = List.of();
            while (acks < killAfter && System.nanoTime() < deadline && child.isAlive()) {
                lines = child.newLines();
                acks += record(lines, ackedTerms, child);
                if (lines.isEmpty()) {
                    Thread.sleep(1);
                }
            }
            acks += record(child.kill(), ackedTerms, child);
            assertThat(acks).as("acknowledgements from run %d; child stderr:%n%s", run, child.stderrText()).isGreaterThan(0);
            acked = ackedTerms.lastKey();

            try (DurableStorage s = DurableStorage.open(dir, TestEntries.IDENTITY, CrashWriter.OPTIONS)) {
                System.out.printf("crash run %d: killed after %d acks; acknowledged up to index %d, %d more on disk%n",
                        run, acks, acked, s.lastIndex() - acked);
                assertThat(s.lastIndex()).as("after run %d", run).isGreaterThanOrEqualTo(acked);
                assertThat(s.hardState().term()).isEqualTo(run);
                for (var e : s.entries(1, acked + 1, Long.MAX_VALUE)) {
                    assertThat(e).as("entry %d after run %d", e.index(), run).isEqualTo(TestEntries.entry(e.index(), ackedTerms.get(e.index())));
                }
                assertThat(s.entries(1, acked + 1, Long.MAX_VALUE)).hasSize((int) acked);
            }
        }
    }

    /** Records the acknowledged ranges in {@code lines}; returns how many there were. */
    private static int record(List<String> lines, TreeMap<Long, Long> ackedTerms, ChildJvm child) {
        int acks = 0;
        for (String line : lines) {
            String[] f = line.split(" ");
            if (!f[0].equals("ACK")) {
                throw new AssertionError("child said '" + line + "'; stderr:\n" + child.stderrText());
            }
            for (long i = Long.parseLong(f[1]); i <= Long.parseLong(f[2]); i++) {
                ackedTerms.put(i, Long.parseLong(f[3]));
            }
            acks++;
        }
        return acks;
    }
}
