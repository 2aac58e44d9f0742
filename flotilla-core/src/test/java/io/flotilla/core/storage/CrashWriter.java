package io.flotilla.core.storage;

import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Child-process main for {@link CrashDurabilityTest}: appends batches in term {@code term} after index
 * {@code acked} (overwriting anything unacknowledged a previous run left behind) and, after each
 * sync, prints {@code ACK <from> <to> <term>}. Runs until killed, or for at most a minute.
 */
public final class CrashWriter {
    static final DurableStorage.Options OPTIONS = DurableStorage.Options.defaults().withSegmentBytes(16 * 1024);

    private CrashWriter() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        long term = Long.parseLong(args[1]);
        long acked = Long.parseLong(args[2]);
        PrintStream out = System.out;
        long deadline = System.nanoTime() + 60_000_000_000L;
        try (DurableStorage s = DurableStorage.open(dir, TestEntries.IDENTITY, OPTIONS)) {
            if (s.lastIndex() < acked) {
                out.println("LOST " + s.lastIndex() + " < " + acked);
                System.exit(3);
            }
            s.saveHardState(new HardState(term, TestEntries.IDENTITY.nodeId()));
            SplittableRandom random = new SplittableRandom(term);
            long next = acked + 1;
            while (System.nanoTime() < deadline) {
                long last = next + random.nextInt(30);
                List<LogEntry> batch = TestEntries.entries(next, last, term);
                s.append(batch);
                s.sync();
                out.println("ACK " + next + " " + last + " " + term);
                out.flush();
                next = last + 1;
            }
        }
    }
}
