package io.flotilla.core;

import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * The voting members of the cluster. It lives in the log as {@link EntryType#CONFIG} entries, and
 * a node always uses the newest one in its log, committed or not (Raft dissertation §4.1).
 */
public record ClusterConfig(Set<Integer> voters) {
    public ClusterConfig {
        if (voters.isEmpty()) {
            throw new IllegalArgumentException("a cluster needs at least one voter");
        }
        for (int id : voters) {
            if (id <= 0) {
                throw new IllegalArgumentException("node ids are positive: " + id);
            }
        }
        // Sorted, so every iteration over the voters (messages, quorum counting) is deterministic.
        voters = Collections.unmodifiableSortedSet(new TreeSet<>(voters));
    }

    public static ClusterConfig of(Integer... voters) {
        return new ClusterConfig(Set.of(voters));
    }

    public int quorum() {
        return voters.size() / 2 + 1;
    }

    public boolean isVoter(int id) {
        return voters.contains(id);
    }

    /** Encodes the voters in ascending order, so equal configurations give equal bytes. */
    public Bytes encode() {
        ByteBuffer buf = ByteBuffer.allocate(4 + 4 * voters.size());
        buf.putInt(voters.size());
        voters.forEach(buf::putInt);
        return Bytes.wrap(buf.array());
    }

    public static ClusterConfig decode(Bytes data) {
        ByteBuffer buf = ByteBuffer.wrap(data.unsafeArray());
        if (buf.remaining() < 4) {
            throw new IllegalArgumentException("configuration entry too short");
        }
        int n = buf.getInt();
        if (n < 1 || n > buf.remaining() / 4) {
            throw new IllegalArgumentException("configuration entry claims " + n + " voters in " + data.length() + " bytes");
        }
        Set<Integer> voters = new TreeSet<>();
        for (int i = 0; i < n; i++) {
            voters.add(buf.getInt());
        }
        return new ClusterConfig(voters);
    }

    @Override
    public String toString() {
        return "voters" + voters;
    }
}
