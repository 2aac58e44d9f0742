package io.flotilla.core.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.SnapshotMeta;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a writer that appends, snapshots on a second thread and compacts, with SIGKILL at random
 * moments (mid-snapshot, mid-commit, mid-compaction), and checks after each restart that the newest
 * acknowledged snapshot is there with its data, that the log starts right after it, and that every
 * acknowledged entry after it survived.
 */
class SnapshotCrashTest {
    private static final int KILLS = 6;
    private static final long RUN_TIMEOUT_MILLIS = 30_000;

    @TempDir
    Path dir;
    @TempDir
    Path childOutput;

    @Test
    void acknowledgedSnapshotsAndEntriesSurviveSigkill() throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        TreeMap<Long, Long> ackedTerms = new TreeMap<>();
        long acked = 0;
        long snapshotAcked = 0;
        for (int run = 1; run <= KILLS; run++) {
            ChildJvm child = ChildJvm.start(SnapshotCrashWriter.class, childOutput, dir.toString(), String.valueOf(run),
                    String.valueOf(acked));
            int killAfter = 30 + random.nextInt(400);
            int lines = 0;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RUN_TIMEOUT_MILLIS);
            while (lines < killAfter && System.nanoTime() < deadline && child.isAlive()) {
                List<String> batch = child.newLines();
                snapshotAcked = Math.max(snapshotAcked, record(batch, ackedTerms, child));
                lines += batch.size();
                if (batch.isEmpty()) {
                    Thread.sleep(1);
                }
            }
            snapshotAcked = Math.max(snapshotAcked, record(child.kill(), ackedTerms, child));
            assertThat(ackedTerms).as("child stderr:%n%s", child.stderrText()).isNotEmpty();
            acked = ackedTerms.lastKey();

            try (DurableStorage s = DurableStorage.open(dir, TestEntries.IDENTITY, SnapshotCrashWriter.OPTIONS)) {
                Optional<SnapshotMeta> snapshot = s.latestSnapshot();
                long base = snapshot.map(SnapshotMeta::index).orElse(0L);
                System.out.printf("snapshot crash run %d: killed after %d lines; acknowledged entries up to %d, snapshot %d;"
                        + " reopened with snapshot %d and entries %d..%d; files %s%n", run, lines, acked, snapshotAcked, base,
                        s.firstIndex(), s.lastIndex(), RecoveryTestFiles.names(dir, ""));
                assertThat(base).as("snapshot after run %d", run).isGreaterThanOrEqualTo(snapshotAcked).isLessThanOrEqualTo(acked);
                if (snapshot.isPresent()) {
                    assertThat(snapshot.get().term()).isEqualTo(ackedTerms.get(base));
                    try (InputStream in = s.openSnapshot()) {
                        assertThat(in.readAllBytes()).isEqualTo(SnapshotCrashWriter.snapshotData(base));
                    }
                    assertThat(s.term(base)).isEqualTo(snapshot.get().term());
                }
                assertThat(s.firstIndex()).isEqualTo(base + 1);
                assertThat(s.lastIndex()).isGreaterThanOrEqualTo(acked);
                for (var e : s.entries(base + 1, acked + 1, Long.MAX_VALUE)) {
                    assertThat(e).isEqualTo(TestEntries.entry(e.index(), ackedTerms.get(e.index())));
                }
                assertThat(s.entries(base + 1, acked + 1, Long.MAX_VALUE)).hasSize((int) (acked - base));
                assertThat(RecoveryTestFiles.names(dir, "snapshot_")).hasSizeLessThanOrEqualTo(SnapshotStore.KEPT)
                        .allSatisfy(n -> assertThat(n).doesNotEndWith(".tmp"));
            }
        }
        assertThat(snapshotAcked).as("the runs got as far as committing snapshots").isGreaterThan(0);
    }

    /** Records acknowledged entries; returns the highest snapshot acknowledged in {@code lines} (0 if none). */
    private static long record(List<String> lines, TreeMap<Long, Long> ackedTerms, ChildJvm child) {
        long snapshot = 0;
        for (String line : lines) {
            String[] f = line.split(" ");
            if (f[0].equals("SNAP")) {
                snapshot = Math.max(snapshot, Long.parseLong(f[1]));
            } else if (f[0].equals("ACK")) {
                for (long i = Long.parseLong(f[1]); i <= Long.parseLong(f[2]); i++) {
                    ackedTerms.put(i, Long.parseLong(f[3]));
                }
            } else {
                throw new AssertionError("child said '" + line + "'; stderr:\n" + child.stderrText());
            }
        }
        return snapshot;
    }
}
