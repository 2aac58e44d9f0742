package io.flotilla.server;

import io.flotilla.client.wire.NodeStatus;
import io.flotilla.core.Member;
import io.flotilla.core.RaftRuntime;
import io.flotilla.core.protocol.Role;
import io.flotilla.core.protocol.Status;
import io.flotilla.server.kv.KvStateMachine;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A node's status as operators read it (the client's {@code status}, {@code /status}, {@code /health}):
 * the protocol state plus version, uptime, snapshot, keys, disk use and health. Any thread; the data
 * directory is measured at most once a second, never on the node's thread.
 */
final class StatusReporter {
    /** This build's version, from the jar (Maven fills it in). */
    static final String VERSION = readVersion();
    private static final Pattern SNAPSHOT = Pattern.compile("snapshot_(\\d{1,18})_(\\d{1,18})");
    private static final long DISK_EVERY_NANOS = 1_000_000_000L;

    private final ServerConfig config;
    private final RequestCounters requests;
    private final LongSupplier nanoClock;
    private final long startedNanos;
    private volatile RaftRuntime<?, ?, ?> raft;
    private volatile KvStateMachine state;
    /** Null until first measured. */
    private Disk disk;

    /** What the data directory held when last measured. */
    private record Disk(long bytes, long snapshotIndex, long snapshotTerm, long snapshotTimeMillis, long measuredNanos) {
    }

    StatusReporter(ServerConfig config, RequestCounters requests, LongSupplier nanoClock) {
        this.config = config;
        this.requests = requests;
        this.nanoClock = nanoClock;
        this.startedNanos = nanoClock.getAsLong();
    }

    /** The node's runtime and state machine, once they exist (a joining node waits for them). */
    void attach(RaftRuntime<?, ?, ?> raft, KvStateMachine state) {
        this.state = state;
        this.raft = raft;
    }

    /** This node's status with its details. */
    NodeStatus status() {
        RaftRuntime<?, ?, ?> r = raft;
        KvStateMachine kv = state;
        Disk d = disk();
        long uptime = (nanoClock.getAsLong() - startedNanos) / 1_000_000;
        if (r == null) {
            return new NodeStatus(config.nodeId(), "WAITING", 0, 0, 0, 0, 0, new TreeMap<>(), false,
                    new NodeStatus.Details(VERSION, uptime, 0, d.snapshotIndex(), d.snapshotTerm(), d.snapshotTimeMillis(), 0,
                            d.bytes(), "the node waits to be added to the cluster", requests.writes(), requests.reads()));
        }
        Status s = r.status();
        SortedMap<Integer, Member.Kind> members = new TreeMap<>();
        s.members().members().forEach((id, m) -> members.put(id, m.kind()));
        NodeStatus.Details details = new NodeStatus.Details(VERSION, uptime, s.leaderCommit(), d.snapshotIndex(), d.snapshotTerm(),
                d.snapshotTimeMillis(), kv == null ? 0 : kv.keyCount(), d.bytes(), healthProblem(s, r.failure().isDone(), false),
                requests.writes(), requests.reads());
        return new NodeStatus(s.id(), s.role().name(), s.term(), s.leader(), s.commitIndex(), s.appliedIndex(), s.lastIndex(),
                members, s.removed(), details);
    }

    /** The runtime's own status, for what the wire status does not carry (peers' progress, the configuration). */
    Status raftStatus() {
        RaftRuntime<?, ?, ?> r = raft;
        return r == null ? null : r.status();
    }

    /**
     * Why the node should not take traffic; empty if it should. {@code serializable}: only that the
     * node works and belongs to the cluster, not that it knows a leader or is caught up (a liveness probe).
     */
    String healthProblem(boolean serializable) {
        RaftRuntime<?, ?, ?> r = raft;
        if (r == null) {
            return "the node waits to be added to the cluster";
        }
        return healthProblem(r.status(), r.failure().isDone(), serializable);
    }

    private String healthProblem(Status s, boolean failed, boolean serializable) {
        if (failed) {
            return "the node failed (its storage or its thread) and stopped";
        }
        if (s.removed()) {
            return "the node was removed from the cluster";
        }
        if (!s.members().members().containsKey(s.id())) {
            return "the node is not a member of the cluster (it waits to be added)";
        }
        if (serializable) {
            return "";
        }
        if (s.leader() == 0) {
            return "no leader is known (an election may be running)";
        }
        return lagProblem(s.appliedIndex(), s.leaderCommit(), config.admin().maxHealthyLag());
    }

    /** Why {@code applied} is too far behind the leader's commit index; empty if it is not. */
    static String lagProblem(long applied, long leaderCommit, long maxLag) {
        long lag = leaderCommit - applied;
        return lag <= maxLag ? "" : "applied index " + applied + " trails the leader's commit index " + leaderCommit + " by " + lag
                + " entries (more than --health-max-lag " + maxLag + ")";
    }

    private synchronized Disk disk() {
        long now = nanoClock.getAsLong();
        if (disk != null && now - disk.measuredNanos() < DISK_EVERY_NANOS) {
            return disk;
        }
        long[] bytes = {0};
        long[] newest = {0, 0, 0};
        try (Stream<Path> files = Files.walk(config.dataDir())) {
            files.forEach(p -> {
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                    if (a.isRegularFile()) {
                        bytes[0] += a.size();
                        Matcher m = SNAPSHOT.matcher(p.getFileName().toString());
                        if (m.matches() && Long.parseLong(m.group(1)) > newest[0]) {
                            newest[0] = Long.parseLong(m.group(1));
                            newest[1] = Long.parseLong(m.group(2));
                            newest[2] = a.lastModifiedTime().toMillis();
                        }
                    }
                } catch (NoSuchFileException e) {
                    // removed while we looked (a compacted segment, an old snapshot)
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            return disk != null ? disk : new Disk(0, 0, 0, 0, now); // the node's own storage reports real trouble
        }
        disk = new Disk(bytes[0], newest[0], newest[1], newest[2], now);
        return disk;
    }

    private static String readVersion() {
        try (InputStream in = StatusReporter.class.getResourceAsStream("/flotilla-version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            String v = p.getProperty("version", "");
            return v.isEmpty() || v.startsWith("$") ? "dev" : v;
        } catch (IOException e) {
            return "dev";
        }
    }
}
