package io.flotilla.core;

/**
 * One member of the cluster's configuration.
 *
 * @param address where its peers reach it ("host:port"), or empty where the embedder routes by id alone
 */
public record Member(int id, String address, Kind kind) {
    /** Longest address kept in a configuration. */
    public static final int MAX_ADDRESS_CHARS = 255;

    /** What a member does in the protocol. */
    public enum Kind {
        /** Votes in elections and counts for commit and for confirming reads. */
        VOTER,
        /** Receives the log and snapshots but never votes or counts, until promoted by an operator. */
        LEARNER,
        /** A learner that the leader promotes to voter by itself once it has caught up. */
        JOINING;

        public boolean votes() {
            return this == VOTER;
        }
    }

    public Member {
        if (id <= 0) {
            throw new IllegalArgumentException("node ids are positive: " + id);
        }
        if (address == null || address.length() > MAX_ADDRESS_CHARS || !address.chars().allMatch(c -> c > ' ' && c < 127)) {
            throw new IllegalArgumentException("node " + id + ": an address is up to " + MAX_ADDRESS_CHARS
                    + " printable ASCII characters without spaces: " + address);
        }
        if (kind == null) {
            throw new IllegalArgumentException("node " + id + " needs a kind");
        }
    }

    Member withKind(Kind newKind) {
        return new Member(id, address, newKind);
    }

    @Override
    public String toString() {
        return id + (address.isEmpty() ? "" : "@" + address) + (kind == Kind.VOTER ? "" : "(" + kind.name().toLowerCase() + ")");
    }
}
