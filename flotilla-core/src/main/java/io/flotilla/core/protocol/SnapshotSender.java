package io.flotilla.core.protocol;

import io.flotilla.core.Bytes;
import io.flotilla.core.SnapshotChunk;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.StorageReader;
import io.flotilla.core.message.InstallSnapshot;
import io.flotilla.core.message.Message;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;

/**
 * Streams the newest snapshot to a follower that needs entries the leader has compacted away
 * (Raft §7): chunks of {@code chunkBytes}, at most {@link #WINDOW} unacknowledged at once. A
 * follower that makes no progress for a heartbeat interval is probed: one small chunk per heartbeat
 * from the last acknowledged offset until it acknowledges one, then the window opens again. So a lost
 * chunk costs one heartbeat, not a restart, and a follower that is gone costs
 * {@link #PROBE_BYTES} per heartbeat, not a window. Only the heartbeat timer drives this, not the
 * heartbeats that read rounds ask for. An answer that reports less than was acknowledged is taken as
 * stale unless no progress follows it until the heartbeat. A
 * newer snapshot on the leader restarts the transfer with it, so the runtime takes none while a
 * transfer is going on ({@link RaftNode#sendingSnapshot()}).
 *
 * <p>Every chunk is read from the snapshot its message names ({@link StorageReader#readSnapshot} is pinned
 * to it): a snapshot committed on another thread between looking up the newest and reading can never
 * have its bytes sent under the older one's label. Every chunk also carries the whole snapshot's
 * checksum, which the follower checks before installing.
 */
final class SnapshotSender {
    /** Chunks in flight to one follower: enough to keep a link busy, few enough to bound memory. */
    static final int WINDOW = 4;
    /** What a stalled transfer sends per heartbeat: enough to resume, cheap to send to a follower that is gone. */
    static final int PROBE_BYTES = 64 * 1024;

    private final StorageReader storage;
    private final int chunkBytes;

    SnapshotSender(StorageReader storage, int chunkBytes) {
        this.storage = storage;
        this.chunkBytes = chunkBytes;
    }

    /** The snapshot a lagging follower would get, if any. */
    SnapshotMeta newest() {
        return storage.latestSnapshot().orElseThrow(
                () -> new IllegalStateException("the log was compacted but storage holds no snapshot"));
    }

    void send(int from, int to, long term, Progress p, List<Message> out) {
        SnapshotMeta meta = newest();
        if (meta.index() != p.snapshotIndex) {
            p.becomeSnapshot(meta.index());
        }
        if (p.snapshotCheckDue) {
            p.snapshotCheckDue = false;
            if (!p.snapshotProgressed) {
                if (p.snapshotBehind >= 0) {
                    p.snapshotAcked = p.snapshotBehind; // the follower lost what it had (it restarted)
                }
                p.snapshotSent = p.snapshotAcked; // something was lost: resume from what the follower has
                p.snapshotDoneSent = false;
                p.snapshotProbing = true;
            }
            p.snapshotProgressed = false;
            p.snapshotBehind = -1;
        }
        long budget = p.snapshotProbing ? Math.min(PROBE_BYTES, chunkBytes) : (long) WINDOW * chunkBytes;
        while (!p.snapshotDoneSent && p.snapshotSent - p.snapshotAcked < budget) {
            Optional<SnapshotChunk> read = read(meta, p.snapshotSent,
                    (int) Math.min(chunkBytes, budget - (p.snapshotSent - p.snapshotAcked)));
            if (read.isEmpty()) {
                return; // replaced since newest() was read: the next call starts over with the newest
            }
            Bytes chunk = read.get().data();
            boolean done = p.snapshotSent + chunk.length() >= read.get().size();
            out.add(new InstallSnapshot(from, to, term, meta, p.snapshotSent, chunk, done, read.get().checksum()));
            p.snapshotSent += chunk.length();
            p.snapshotDoneSent = done;
        }
    }

    private Optional<SnapshotChunk> read(SnapshotMeta meta, long offset, int bytes) {
        try {
            return storage.readSnapshot(meta, offset, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the snapshot to send it", e);
        }
    }
}
