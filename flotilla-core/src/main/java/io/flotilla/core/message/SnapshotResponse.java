package io.flotilla.core.message;

/**
 * A follower's answer to an {@link InstallSnapshot}: it holds the snapshot at {@code index} up to
 * {@code nextOffset} bytes, or with {@code done} has installed it (its log now matches up to {@code index}).
 */
public record SnapshotResponse(int from, int to, long term, long index, long nextOffset, boolean done)
        implements Message {
    @Override
    public Kind kind() {
        return Kind.SNAPSHOT_RESPONSE;
    }
}
