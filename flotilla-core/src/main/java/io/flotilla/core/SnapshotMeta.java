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

    /**
     * Why this snapshot cannot become the newest after {@code newest} (null if none), or null if it
     * can: snapshots only move forward, and one index has one term (a committed entry's).
     */
    public String refusalAfter(SnapshotMeta newest) {
        if (newest == null) {
            return null;
        }
        if (index < newest.index()) {
            return "snapshot at index " + index + " is older than the newest one, at " + newest.index();
        }
        if (index == newest.index() && term != newest.term()) {
            return "snapshot at index " + index + " term " + term + " contradicts the stored one of term " + newest.term();
        }
        return null;
    }
}
