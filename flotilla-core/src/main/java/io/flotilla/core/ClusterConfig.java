package io.flotilla.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The cluster's members (voters and learners) and the ids removed from it. It lives in the log as
 * {@link EntryType#CONFIG} entries and in each snapshot; a node always uses the newest one in its
 * log, committed or not (Raft dissertation §4.1), so the configuration is a pure function of the
 * log and the snapshot.
 *
 * <p>Removed ids are kept so that no id is used twice: a node that comes back under a removed id
 * (with its old disk, or with none) must not be taken for a member.
 */
public final class ClusterConfig {
    /** More members than any real cluster; bounds what a damaged entry can make us allocate. */
    public static final int MAX_MEMBERS = 1 << 12;
    /** First int of an encoding with members and removed ids; the first format began with a positive voter count. */
    private static final int FORMAT_2 = -2;

    /** No configuration at all: what a node that waits to join knows before it hears from the cluster. */
    public static final ClusterConfig NONE = new ClusterConfig(List.of(), Set.of(), true);

    private final SortedMap<Integer, Member> members;
    private final SortedSet<Integer> voters;
    private final SortedSet<Integer> removed;

    public ClusterConfig(Collection<Member> members, Collection<Integer> removed) {
        this(members, removed, false);
    }

    private ClusterConfig(Collection<Member> members, Collection<Integer> removed, boolean none) {
        SortedMap<Integer, Member> byId = new TreeMap<>();
        for (Member m : members) {
            if (byId.put(m.id(), m) != null) {
                throw new IllegalArgumentException("node " + m.id() + " appears twice in the configuration");
            }
        }
        SortedSet<Integer> gone = new TreeSet<>(removed);
        for (int id : gone) {
            if (byId.containsKey(id)) {
                throw new IllegalArgumentException("node " + id + " is both a member and removed");
            }
        }
        // Sorted, so every iteration over the members (messages, quorum counting) is deterministic.
        this.members = Collections.unmodifiableSortedMap(byId);
        this.voters = Collections.unmodifiableSortedSet(byId.values().stream().filter(m -> m.kind().votes())
                .map(Member::id).collect(Collectors.toCollection(TreeSet::new)));
        this.removed = Collections.unmodifiableSortedSet(gone);
        if (voters.isEmpty() && !none) {
            throw new IllegalArgumentException("a cluster needs at least one voter");
        }
        if (byId.size() + gone.size() > MAX_MEMBERS) {
            throw new IllegalArgumentException("at most " + MAX_MEMBERS + " members and removed ids");
        }
    }

    /** Voters without addresses (embedders and tests that route by id). */
    public static ClusterConfig of(Integer... voters) {
        return ofVoters(List.of(voters));
    }

    /** Voters without addresses. */
    public static ClusterConfig ofVoters(Collection<Integer> voters) {
        return new ClusterConfig(voters.stream().map(id -> new Member(id, "", Member.Kind.VOTER)).toList(), Set.of());
    }

    /** Voters at the given addresses: a new cluster's founders. */
    public static ClusterConfig ofVoters(Map<Integer, String> addresses) {
        return new ClusterConfig(addresses.entrySet().stream()
                .map(e -> new Member(e.getKey(), e.getValue(), Member.Kind.VOTER)).toList(), Set.of());
    }

    /** Every member, voters and learners, by id in ascending order. */
    public SortedMap<Integer, Member> members() {
        return members;
    }

    public SortedSet<Integer> voters() {
        return voters;
    }

    public SortedSet<Integer> removed() {
        return removed;
    }

    public int quorum() {
        return voters.size() / 2 + 1;
    }

    public boolean isVoter(int id) {
        return voters.contains(id);
    }

    public boolean isMember(int id) {
        return members.containsKey(id);
    }

    public Optional<Member> member(int id) {
        return Optional.ofNullable(members.get(id));
    }

    /**
     * The configuration after {@code change}.
     *
     * @throws IllegalArgumentException with a one-line reason if the change does not apply to this configuration
     */
    public ClusterConfig apply(MembershipChange change) {
        int id = change.id();
        Map<Integer, Member> next = new TreeMap<>(members);
        Set<Integer> gone = new TreeSet<>(removed);
        Member current = members.get(id);
        if (change instanceof MembershipChange.AddLearner add) {
            if (removed.contains(id)) {
                throw new IllegalArgumentException("node " + id + " was removed from this cluster, and an id is never used"
                        + " twice; add the new node under a new id");
            }
            if (current != null) {
                throw new IllegalArgumentException("node " + id + " is already a member (" + describe(current) + ")");
            }
            next.put(id, new Member(id, add.address(), add.promoteWhenCaughtUp() ? Member.Kind.JOINING : Member.Kind.LEARNER));
        } else if (change instanceof MembershipChange.Promote) {
            if (current == null) {
                throw new IllegalArgumentException("node " + id + " is not a member; add it as a learner first");
            }
            if (current.kind().votes()) {
                throw new IllegalArgumentException("node " + id + " is already a voter");
            }
            next.put(id, current.withKind(Member.Kind.VOTER));
        } else if (change instanceof MembershipChange.Remove) {
            if (current == null) {
                throw new IllegalArgumentException("node " + id + " is not a member" + (removed.contains(id) ? "; it was removed already" : ""));
            }
            if (current.kind().votes() && voters.size() == 1) {
                throw new IllegalArgumentException("node " + id + " is the only voter; a cluster needs at least one");
            }
            next.remove(id);
            gone.add(id);
        } else {
            throw new AssertionError(change);
        }
        return new ClusterConfig(next.values(), gone);
    }

    private static String describe(Member m) {
        return m.kind().name().toLowerCase();
    }

    /** Encodes members and removed ids in ascending order, so equal configurations give equal bytes. */
    public Bytes encode() {
        int size = 4 + 4 + 4;
        for (Member m : members.values()) {
            size += 4 + 1 + 2 + m.address().length();
        }
        size += 4 * removed.size();
        ByteBuffer buf = ByteBuffer.allocate(size);
        buf.putInt(FORMAT_2).putInt(members.size());
        for (Member m : members.values()) {
            byte[] address = m.address().getBytes(StandardCharsets.US_ASCII);
            buf.putInt(m.id()).put((byte) m.kind().ordinal()).putShort((short) address.length).put(address);
        }
        buf.putInt(removed.size());
        removed.forEach(buf::putInt);
        return Bytes.wrap(buf.array());
    }

    /**
     * Decodes {@link #encode()}'s bytes, or the first format (a voter count and the voters' ids).
     *
     * @throws IllegalArgumentException if the bytes are not a valid configuration
     */
    public static ClusterConfig decode(Bytes data) {
        ByteBuffer buf = ByteBuffer.wrap(data.unsafeArray());
        int first = take(buf, 4, "configuration entry too short").getInt();
        if (first > 0) {
            if (first > buf.remaining() / 4 || first > MAX_MEMBERS) {
                throw new IllegalArgumentException("configuration entry claims " + first + " voters in " + data.length() + " bytes");
            }
            Set<Integer> ids = new TreeSet<>();
            for (int i = 0; i < first; i++) {
                ids.add(buf.getInt());
            }
            return ofVoters(ids);
        }
        if (first != FORMAT_2) {
            throw new IllegalArgumentException("unknown configuration format " + first);
        }
        int n = take(buf, 4, "configuration entry too short").getInt();
        if (n < 1 || n > MAX_MEMBERS || n > buf.remaining() / 7) {
            throw new IllegalArgumentException("configuration entry claims " + n + " members in " + data.length() + " bytes");
        }
        List<Member> members = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int id = take(buf, 7, "configuration entry truncated").getInt();
            int kind = buf.get();
            int length = buf.getShort();
            if (kind < 0 || kind >= Member.Kind.values().length || length < 0 || length > Member.MAX_ADDRESS_CHARS) {
                throw new IllegalArgumentException("configuration entry: member " + id + " has kind " + kind + ", address of " + length + " bytes");
            }
            byte[] address = new byte[length];
            take(buf, length, "configuration entry truncated").get(address);
            members.add(new Member(id, new String(address, StandardCharsets.US_ASCII), Member.Kind.values()[kind]));
        }
        int r = take(buf, 4, "configuration entry truncated").getInt();
        if (r < 0 || r > MAX_MEMBERS || r > buf.remaining() / 4) {
            throw new IllegalArgumentException("configuration entry claims " + r + " removed ids in " + data.length() + " bytes");
        }
        Set<Integer> removed = new TreeSet<>();
        for (int i = 0; i < r; i++) {
            removed.add(buf.getInt());
        }
        if (buf.hasRemaining()) {
            throw new IllegalArgumentException("configuration entry has " + buf.remaining() + " bytes after its end");
        }
        return new ClusterConfig(members, removed);
    }

    private static ByteBuffer take(ByteBuffer buf, int bytes, String message) {
        if (buf.remaining() < bytes) {
            throw new IllegalArgumentException(message);
        }
        return buf;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClusterConfig c && members.equals(c.members) && removed.equals(c.removed);
    }

    @Override
    public int hashCode() {
        return members.hashCode() * 31 + removed.hashCode();
    }

    @Override
    public String toString() {
        return "members" + members.values() + (removed.isEmpty() ? "" : " removed" + removed);
    }
}
