package io.flotilla.core;

/**
 * What a snapshot stands for: the state after applying every entry up to {@code index} (whose term
 * is {@code term}), in a cluster whose configuration at that point was {@code config}.
 */
public record SnapshotMeta(long index, long term, ClusterConfig config) {
    public SnapshotMeta {
        if (index < 1 || term < 1) {
            throw new IllegalArgumentException("snapshot index and term start at 1: " + index + "/" + term);
        }
    }
}
