package io.flotilla.core.message;

import io.flotilla.core.Bytes;
import io.flotilla.core.SnapshotMeta;

/**
 * One chunk of a snapshot sent to a follower whose next entry the leader no longer holds (Raft §7).
 * Chunks go out in order, a few at a time; the follower acknowledges each with a
 * {@link SnapshotResponse} naming the offset it expects next, so a lost chunk is simply resent.
 * Every chunk carries {@code checksum}, the CRC32C of the whole snapshot's data: the follower checks
 * the data it assembled against it before installing anything, and starts over on a mismatch.
 */
public record InstallSnapshot(int from, int to, long term, SnapshotMeta meta, long offset, Bytes chunk, boolean done,
                              int checksum) implements Message {
    public InstallSnapshot {
        if (offset < 0) {
            throw new IllegalArgumentException("negative snapshot offset " + offset);
        }
    }

    @Override
    public Kind kind() {
        return Kind.INSTALL_SNAPSHOT;
    }
}
