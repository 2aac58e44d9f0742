package io.flotilla.core;

import java.util.function.Consumer;

/**
 * The simulated disk's hold on the in-memory snapshot sink, which main keeps package-private (an
 * embedder uses {@link MemoryStorage}). Like {@link SimulatedDriver}, a door in the test tree for
 * {@code io.flotilla.core.sim}, not API.
 */
public final class SimulatedSnapshots {
    private SimulatedSnapshots() {
    }

    /** A sink that hands the snapshot's bytes to {@code onCommit} when it is committed. */
    public static SnapshotSink sink(SnapshotMeta meta, Consumer<byte[]> onCommit) {
        return new MemorySnapshotSink(meta, onCommit);
    }

    /** Up to {@code maxBytes} of {@code data} from {@code offset}, as a storage serves a snapshot to a follower. */
    public static SnapshotChunk chunk(byte[] data, int checksum, long offset, int maxBytes) {
        return MemorySnapshotSink.chunk(data, checksum, offset, maxBytes);
    }

    public static int checksum(byte[] data) {
        return MemorySnapshotSink.checksum(data);
    }
}
