package io.flotilla.core.message;

import io.flotilla.core.LogEntry;
import java.util.List;

/**
 * Replicates entries, or with none, serves as the heartbeat (Raft §5.3). {@code round} numbers the
 * leader's heartbeat rounds; the follower echoes it so that the leader can confirm its leadership
 * for the reads waiting on that round (dissertation §6.4).
 */
public record AppendEntries(int from, int to, long term, long prevLogIndex, long prevLogTerm,
                            List<LogEntry> entries, long leaderCommit, long round) implements Message {
    public AppendEntries {
        entries = List.copyOf(entries);
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).index() != prevLogIndex + 1 + i) {
                throw new IllegalArgumentException("entries do not follow index " + prevLogIndex + " contiguously");
            }
        }
    }

    @Override
    public Kind kind() {
        return Kind.APPEND_ENTRIES;
    }

    /** The index of the last entry this message carries, or {@code prevLogIndex} if it carries none. */
    public long lastIndex() {
        return prevLogIndex + entries.size();
    }
}
