package io.flotilla.core.protocol;

import io.flotilla.core.ClusterConfig;
import io.flotilla.core.EntryType;
import io.flotilla.core.LogEntry;
import io.flotilla.core.NodeHaltedException;
import io.flotilla.core.SnapshotMeta;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's view of the cluster's membership: the configurations in its log and snapshot, by the
 * index that introduced each. The node uses the newest, committed or not (dissertation §4.1); when
 * a new leader cuts entries off the log, the newest one left takes over. A leader appends a
 * configuration only once the one before it is committed, and Log Matching makes every log a copy
 * of some leader's, so in any log only the newest configuration can be uncommitted. Older ones are
 * kept only as far back as the applied index, for the snapshots taken there.
 *
 * <p>It also guards a joining node's identity: a node that started with no state and no founders
 * must see itself join as a learner. A configuration that already names it a voter, or lists it as
 * removed, means it is a member that lost its state (docs/design.md, "A member's identity"), so it
 * halts rather than act as that member.
 */
final class Membership {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);

    private final int id;
    private final TreeMap<Long, ClusterConfig> byIndex = new TreeMap<>();
    private boolean joining;

    Membership(int id) {
        this.id = id;
    }

    /** The newest configuration, or {@link ClusterConfig#NONE} before any is known. */
    ClusterConfig latest() {
        return byIndex.isEmpty() ? ClusterConfig.NONE : byIndex.lastEntry().getValue();
    }

    /** The index of the newest configuration's entry (the snapshot's index for a snapshot's), 0 if none. */
    long latestIndex() {
        return byIndex.isEmpty() ? 0 : byIndex.lastKey();
    }

    /** The configuration in force at {@code index}, which must not be below the applied index. */
    ClusterConfig at(long index) {
        Map.Entry<Long, ClusterConfig> e = byIndex.floorEntry(index);
        return e == null ? ClusterConfig.NONE : e.getValue();
    }

    /** True while this node, started with no state and no founders, has not yet seen itself added. */
    boolean joining() {
        return joining;
    }

    /** True once a committed configuration removed this node. */
    boolean removed(long committed) {
        return latest().removed().contains(id) && latestIndex() <= committed;
    }

    /**
     * Reads the configurations a restarted node holds: the snapshot's, then the newest two in the log
     * (searched from the end). With none at all, the node waits to be added as a joining node.
     */
    void restore(RaftLog log, SnapshotMeta snapshot) {
        load(log, snapshot);
        joining = latest() == ClusterConfig.NONE;
        if (joining) {
            LOG.info("node {} has no configuration: it waits to be added to a cluster as a learner", id);
        }
    }

    private void load(RaftLog log, SnapshotMeta snapshot) {
        List<LogEntry> found = new ArrayList<>();
        for (long i = log.lastIndex(); i >= log.firstIndex() && found.size() < 2; i -= 1024) {
            List<LogEntry> chunk = log.entries(Math.max(log.firstIndex(), i - 1023), 1024, Long.MAX_VALUE);
            for (int j = chunk.size() - 1; j >= 0 && found.size() < 2; j--) {
                if (chunk.get(j).type() == EntryType.CONFIG) {
                    found.add(0, chunk.get(j));
                }
            }
        }
        byIndex.clear();
        if (snapshot != null) {
            byIndex.put(snapshot.index(), snapshot.config());
        }
        found.forEach(e -> put(e, log.applied));
    }

    /**
     * An entry joined the log at its index, replacing anything from there on.
     *
     * @return true if the configuration in force changed
     */
    boolean appended(LogEntry entry, long applied) {
        if (entry.type() != EntryType.CONFIG) {
            return false;
        }
        ClusterConfig before = latest();
        put(entry, applied);
        return changed(before);
    }

    /** The log was cut from {@code index} on; returns true if the configuration in force changed. */
    boolean truncatedFrom(long index) {
        ClusterConfig before = latest();
        byIndex.tailMap(index, true).clear();
        return changed(before);
    }

    /**
     * The log was replaced by a snapshot; {@code log} holds what was kept after it. Returns true if
     * the configuration in force changed.
     */
    boolean installed(SnapshotMeta snapshot, RaftLog log) {
        ClusterConfig original = latest();
        ClusterConfig before = original;
        if (joining) {
            // The snapshot's configuration first, then any newer one in the log kept after it.
            byIndex.clear();
            byIndex.put(snapshot.index(), snapshot.config());
            changed(before);
            before = latest();
        }
        load(log, snapshot);
        changed(before);
        return !latest().equals(original);
    }

    private void put(LogEntry entry, long applied) {
        byIndex.tailMap(entry.index(), true).clear();
        byIndex.put(entry.index(), ClusterConfig.decode(entry.data()));
        Long floor = byIndex.floorKey(applied);
        if (floor != null) {
            byIndex.headMap(floor, false).clear();
        }
    }

    /**
     * Checks a joining node's identity against the new configuration and says what changed for this node
     * (at DEBUG: RaftRuntime gives every configuration change its INFO line).
     */
    private boolean changed(ClusterConfig before) {
        ClusterConfig now = latest();
        if (now.equals(before)) {
            return false;
        }
        if (joining) {
            if (now.isVoter(id)) {
                throw new NodeHaltedException("node " + id + " started with no data to join a cluster, but the cluster's"
                        + " configuration already has node " + id + " as a voter: this id belongs to a member that lost its"
                        + " state. Remove that member, and add this node under a new id.");
            }
            if (now.removed().contains(id)) {
                throw new NodeHaltedException("node " + id + " started with no data to join a cluster, but the cluster's"
                        + " configuration lists node " + id + " as removed (it was removed before it joined, or it is a member"
                        + " that lost its state), and an id is never used twice: add this node under a new id.");
            }
            if (now.isMember(id)) {
                joining = false;
                LOG.debug("node {} was added to the cluster as a learner: {}", id, now);
            }
        }
        if (before.isMember(id) && !now.isMember(id)) {
            LOG.debug("node {} is not in the configuration at index {} ({}): it was removed and takes no further part"
                    + " once that commits", id, latestIndex(), now);
        } else if (before.isMember(id) && !before.isVoter(id) && now.isVoter(id)) {
            LOG.debug("node {} is a voter from index {}", id, latestIndex());
        }
        return true;
    }
}
