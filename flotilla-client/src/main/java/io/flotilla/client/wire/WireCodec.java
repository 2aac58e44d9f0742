package io.flotilla.client.wire;

import io.flotilla.core.Bytes;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import io.flotilla.core.Member;
import io.flotilla.core.MembershipChange;

/**
 * The client protocol's frame bodies (docs/protocol.md is the specification). Frames themselves are
 * a 4-byte big-endian length followed by the body; the transport cuts them. Every decode treats its
 * input as hostile: any problem is a {@link ProtocolException}, and no length read from the input
 * is used before it is checked against the bytes present.
 */
public final class WireCodec {
    /** "FLOT": the first four bytes of every Hello and Hello reply. */
    public static final int MAGIC = 0x464C4F54;
    /**
     * The newest protocol version: 2 added the limits to the hello reply; 3 added the membership
     * requests and the configuration in a node's status; 4 the details in a node's status (version,
     * uptime, snapshot, keys, disk, health, request counters) and the snapshot requests (backups);
     * 5 the requests on many keys at once (the Redis port's MSET, DEL and MGET, relayed to the leader).
     * Every node still speaks 1.
     */
    public static final int VERSION = 5;

    static final int GET = 1;
    static final int SET = 2;
    static final int DELETE = 3;
    static final int CAS = 4;
    static final int STATUS = 5;
    static final int MEMBER_LIST = 6;
    static final int MEMBER_CHANGE = 7;
    /** Version 4: a consistent snapshot for a backup, and reading its data. */
    static final int SNAPSHOT_BEGIN = 8;
    static final int SNAPSHOT_READ = 9;
    /** Version 5: writes and reads of many keys at once. */
    static final int SET_MANY = 10;
    static final int DELETE_MANY = 11;
    static final int GET_MANY = 12;

    /** MEMBER_CHANGE kinds: add a member promoted once caught up, add a learner, promote, remove. */
    static final int CHANGE_ADD = 1;
    static final int CHANGE_ADD_LEARNER = 2;
    static final int CHANGE_PROMOTE = 3;
    static final int CHANGE_REMOVE = 4;

    static final int FORM_PLAIN = 0;
    static final int FORM_VALUE = 1;
    static final int FORM_STATUS = 2;
    /** Version 3: a node status followed by the configuration it uses. */
    static final int FORM_STATUS_3 = 3;
    static final int FORM_MEMBERS = 4;
    /** Version 4: a version-3 status followed by its details. */
    static final int FORM_STATUS_4 = 5;
    /** Version 4: the snapshot a SNAPSHOT_BEGIN opened, and a piece of its data. */
    static final int FORM_SNAPSHOT = 6;
    static final int FORM_SNAPSHOT_DATA = 7;
    /** Version 5: how many keys a DELETE_MANY found, and the values a GET_MANY read. */
    static final int FORM_COUNT = 8;
    static final int FORM_VALUES = 9;

    private WireCodec() {
    }

    /**
     * The request id of a node's goodbye: an UNAVAILABLE answer to no request, sent before it closes
     * an idle connection; requests unanswered by then were not read (docs/protocol.md).
     */
    public static final long GOODBYE_ID = 0;

    /** A request or response together with the id that pairs them on a connection. */
    public record Tagged<T>(long requestId, T body) {
    }

    // ---- hello ----------------------------------------------------------------------------------

    /** The hello's role byte for a client; nodes greeting each other use others (docs/protocol.md). */
    static final int CLIENT_ROLE = 1;

    /** A client's hello; its node id is 0. */
    public static ByteBuffer encodeHello(Hello hello) {
        Out out = new Out();
        out.buf.putInt(MAGIC).put((byte) hello.version()).put((byte) CLIENT_ROLE).putInt(0);
        out.string(hello.clusterId());
        return out.done();
    }

    /** Version 1 without limits, version 2 with them (send version 2 only to a hello of version 2 or later). */
    public static ByteBuffer encodeHelloReply(Hello.Reply reply) {
        Out out = new Out();
        out.buf.putInt(MAGIC).put((byte) reply.version()).put((byte) (reply.accepted() ? 1 : 0)).putInt(reply.nodeId());
        out.string(reply.clusterId());
        out.string(reply.message());
        reply.limits().ifPresent(l -> {
            out.ensure(12);
            out.buf.putInt(l.maxKeyBytes()).putInt(l.maxValueBytes()).putInt(l.maxFrameBytes());
        });
        return out.done();
    }

    public static Hello.Reply decodeHelloReply(ByteBuffer in) {
        return decode(in, "hello reply", () -> {
            magic(in);
            int version = in.get();
            if (version < 1 || version > VERSION) {
                throw new ProtocolException("hello reply of protocol version " + version + " (this side speaks 1 to " + VERSION + ")");
            }
            boolean accepted = bool(in);
            int nodeId = in.getInt();
            String clusterId = string(in);
            String message = string(in);
            Optional<Hello.Limits> limits = version == 1 ? Optional.empty()
                    : Optional.of(new Hello.Limits(nonNegative(in.getInt()), nonNegative(in.getInt()), nonNegative(in.getInt())));
            return new Hello.Reply(accepted, nodeId, clusterId, message, limits, version);
        });
    }

    private static int nonNegative(int limit) {
        if (limit < 0) {
            throw new ProtocolException("a limit must not be negative, got " + limit);
        }
        return limit;
    }

    private static void magic(ByteBuffer in) {
        int magic = in.getInt();
        if (magic != MAGIC) {
            throw new ProtocolException(String.format("not a Flotilla connection (magic 0x%08x)", magic));
        }
    }

    // ---- requests -------------------------------------------------------------------------------

    public static ByteBuffer encodeRequest(long requestId, Request request) {
        Out out = new Out();
        out.buf.putLong(requestId);
        if (request instanceof Request.Get g) {
            out.buf.put((byte) GET).put((byte) (g.stale() ? 1 : 0));
            out.bytes(g.key());
        } else if (request instanceof Request.Set s) {
            out.buf.put((byte) SET);
            out.session(s.session());
            out.bytes(s.key());
            out.bytes(s.value());
        } else if (request instanceof Request.Delete d) {
            out.buf.put((byte) DELETE);
            out.session(d.session());
            out.bytes(d.key());
        } else if (request instanceof Request.Cas c) {
            out.buf.put((byte) CAS);
            out.session(c.session());
            out.bytes(c.key());
            out.buf.put((byte) (c.expected().isPresent() ? 1 : 0));
            c.expected().ifPresent(out::bytes);
            out.bytes(c.value());
        } else if (request instanceof Request.SetMany m) {
            out.buf.put((byte) SET_MANY);
            out.session(m.session());
            out.buf.putInt(m.entries().size());
            for (Request.KeyValue e : m.entries()) {
                out.bytes(e.key());
                out.bytes(e.value());
            }
        } else if (request instanceof Request.DeleteMany d) {
            out.buf.put((byte) DELETE_MANY);
            out.session(d.session());
            out.buf.putInt(d.keys().size());
            d.keys().forEach(out::bytes);
        } else if (request instanceof Request.GetMany g) {
            out.buf.put((byte) GET_MANY).put((byte) (g.stale() ? 1 : 0)).putInt(g.keys().size());
            g.keys().forEach(out::bytes);
        } else if (request instanceof Request.StatusQuery) {
            out.buf.put((byte) STATUS);
        } else if (request instanceof Request.MemberList) {
            out.buf.put((byte) MEMBER_LIST);
        } else if (request instanceof Request.MemberChange m) {
            MembershipChange change = m.change();
            out.buf.put((byte) MEMBER_CHANGE);
            if (change instanceof MembershipChange.AddLearner add) {
                out.buf.put((byte) (add.promoteWhenCaughtUp() ? CHANGE_ADD : CHANGE_ADD_LEARNER)).putInt(add.id());
                out.string(add.address());
            } else {
                out.buf.put((byte) (change instanceof MembershipChange.Promote ? CHANGE_PROMOTE : CHANGE_REMOVE)).putInt(change.id());
                out.string("");
            }
        } else if (request instanceof Request.SnapshotBegin) {
            out.buf.put((byte) SNAPSHOT_BEGIN);
        } else if (request instanceof Request.SnapshotRead r) {
            out.buf.put((byte) SNAPSHOT_READ).putInt(r.nodeId()).putLong(r.streamId()).putLong(r.offset()).putInt(r.maxBytes());
        } else {
            throw new AssertionError(request);
        }
        return out.done();
    }

    public static Tagged<Request> decodeRequest(ByteBuffer in) {
        return decode(in, "request", () -> {
            long id = in.getLong();
            int type = in.get();
            Request request = switch (type) {
                case GET -> {
                    boolean stale = bool(in);
                    yield new Request.Get(bytes(in), stale);
                }
                case SET -> new Request.Set(session(in), bytes(in), bytes(in));
                case DELETE -> new Request.Delete(session(in), bytes(in));
                case CAS -> {
                    Session session = session(in);
                    Bytes key = bytes(in);
                    Optional<Bytes> expected = bool(in) ? Optional.of(bytes(in)) : Optional.empty();
                    yield new Request.Cas(session, key, expected, bytes(in));
                }
                case SET_MANY -> {
                    Session session = session(in);
                    int n = count(in, 8, "key-value pairs");
                    List<Request.KeyValue> entries = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        entries.add(new Request.KeyValue(bytes(in), bytes(in)));
                    }
                    yield new Request.SetMany(session, entries);
                }
                case DELETE_MANY -> {
                    Session session = session(in);
                    yield new Request.DeleteMany(session, keys(in));
                }
                case GET_MANY -> {
                    boolean stale = bool(in);
                    yield new Request.GetMany(keys(in), stale);
                }
                case STATUS -> new Request.StatusQuery();
                case MEMBER_LIST -> new Request.MemberList();
                case MEMBER_CHANGE -> new Request.MemberChange(change(in));
                case SNAPSHOT_BEGIN -> new Request.SnapshotBegin();
                case SNAPSHOT_READ -> new Request.SnapshotRead(in.getInt(), in.getLong(), in.getLong(), in.getInt());
                default -> throw new ProtocolException("unknown request type " + type);
            };
            return new Tagged<>(id, request);
        });
    }

    // ---- responses ------------------------------------------------------------------------------

    /** A response in the newest version. */
    public static ByteBuffer encodeResponse(long requestId, Response response) {
        return encodeResponse(requestId, response, VERSION);
    }

    /**
     * A response for a connection of protocol {@code version}: a status carries the configuration
     * only from version 3 on, so that older clients, which refuse bytes they do not expect, can read it.
     */
    public static ByteBuffer encodeResponse(long requestId, Response response, int version) {
        Out out = new Out();
        out.buf.putLong(requestId).put((byte) response.code().wire());
        if (response instanceof Response.Value v) {
            out.buf.put((byte) FORM_VALUE);
            out.bytes(v.value());
        } else if (response instanceof Response.Status s) {
            out.buf.put((byte) (version >= 4 ? FORM_STATUS_4 : version >= 3 ? FORM_STATUS_3 : FORM_STATUS));
            NodeStatus st = s.status();
            out.buf.putInt(st.nodeId());
            out.string(st.role());
            out.buf.putLong(st.term()).putInt(st.leaderId()).putLong(st.commitIndex()).putLong(st.appliedIndex()).putLong(st.lastIndex());
            if (version >= 3) {
                out.ensure(9 + 5 * st.members().size());
                out.buf.putInt(st.members().size());
                st.members().forEach((id, kind) -> out.buf.putInt(id).put((byte) kind(kind)));
                out.buf.put((byte) (st.removed() ? 1 : 0));
            }
            if (version >= 4) {
                NodeStatus.Details d = st.details();
                out.string(d.version());
                out.ensure(56);
                out.buf.putLong(d.uptimeMillis()).putLong(d.leaderCommit()).putLong(d.snapshotIndex()).putLong(d.snapshotTerm())
                        .putLong(d.snapshotTimeMillis()).putLong(d.keyCount()).putLong(d.dataDirBytes());
                out.string(d.healthProblem());
                out.ensure(16);
                out.buf.putLong(d.writes()).putLong(d.reads());
            }
        } else if (response instanceof Response.Members m) {
            out.buf.put((byte) FORM_MEMBERS);
            Membership ms = m.membership();
            out.buf.putInt(ms.leaderId()).putInt(ms.members().size());
            for (Membership.MemberInfo info : ms.members()) {
                out.ensure(4);
                out.buf.putInt(info.id());
                out.string(info.address());
                out.ensure(17);
                out.buf.put((byte) kind(info.kind())).putLong(info.match()).putLong(info.lag());
            }
            out.ensure(4 + 4 * ms.removed().size());
            out.buf.putInt(ms.removed().size());
            ms.removed().forEach(out.buf::putInt);
        } else if (response instanceof Response.Snapshot s) {
            SnapshotInfo info = s.info();
            out.buf.put((byte) FORM_SNAPSHOT).putInt(info.nodeId()).putLong(info.streamId());
            out.string(info.clusterId());
            out.ensure(16);
            out.buf.putLong(info.index()).putLong(info.term());
            out.bytes(info.config());
            out.ensure(12);
            out.buf.putLong(info.dataLength()).putInt(info.dataCrc());
        } else if (response instanceof Response.SnapshotData d) {
            out.buf.put((byte) FORM_SNAPSHOT_DATA).putLong(d.offset());
            out.bytes(d.data());
        } else if (response instanceof Response.Count c) {
            out.buf.put((byte) FORM_COUNT).putLong(c.count());
        } else if (response instanceof Response.Values v) {
            out.buf.put((byte) FORM_VALUES).putInt(v.values().size());
            for (Optional<Bytes> value : v.values()) {
                out.ensure(1);
                out.buf.put((byte) (value.isPresent() ? 1 : 0));
                value.ifPresent(out::bytes);
            }
        } else if (response instanceof Response.Outcome o) {
            if (o.code() == Response.Code.OK) {
                out.buf.put((byte) FORM_PLAIN);
            }
        } else if (response instanceof Response.NotLeader n) {
            out.buf.putInt(n.leaderId());
            out.string(n.leaderAddress());
            out.string(n.message());
        } else if (response instanceof Response.Failure f) {
            out.string(f.message());
        } else {
            throw new AssertionError(response);
        }
        return out.done();
    }

    public static Tagged<Response> decodeResponse(ByteBuffer in) {
        return decode(in, "response", () -> {
            long id = in.getLong();
            int wire = in.get();
            Response.Code code = Response.Code.ofWire(wire)
                    .orElseThrow(() -> new ProtocolException("unknown response code " + wire));
            Response response = switch (code) {
                case OK -> {
                    int form = in.get();
                    yield switch (form) {
                        case FORM_PLAIN -> Response.OK;
                        case FORM_VALUE -> new Response.Value(bytes(in));
                        case FORM_STATUS -> new Response.Status(new NodeStatus(in.getInt(), string(in), in.getLong(),
                                in.getInt(), in.getLong(), in.getLong(), in.getLong()));
                        case FORM_STATUS_3 -> new Response.Status(status3(in));
                        case FORM_STATUS_4 -> new Response.Status(status4(in));
                        case FORM_MEMBERS -> new Response.Members(membership(in));
                        case FORM_SNAPSHOT -> new Response.Snapshot(new SnapshotInfo(in.getInt(), in.getLong(), string(in),
                                in.getLong(), in.getLong(), bytes(in), in.getLong(), in.getInt()));
                        case FORM_SNAPSHOT_DATA -> new Response.SnapshotData(in.getLong(), bytes(in));
                        case FORM_COUNT -> {
                            long n = in.getLong();
                            if (n < 1) {
                                throw new ProtocolException("a count of " + n + " keys");
                            }
                            yield new Response.Count(n);
                        }
                        case FORM_VALUES -> {
                            int n = count(in, 1, "values");
                            List<Optional<Bytes>> values = new ArrayList<>(n);
                            for (int i = 0; i < n; i++) {
                                values.add(bool(in) ? Optional.of(bytes(in)) : Optional.empty());
                            }
                            yield new Response.Values(values);
                        }
                        default -> throw new ProtocolException("unknown OK form " + form);
                    };
                }
                case NOT_FOUND -> Response.NOT_FOUND;
                case CAS_MISMATCH -> Response.CAS_MISMATCH;
                case NOT_LEADER -> new Response.NotLeader(in.getInt(), string(in), string(in));
                default -> new Response.Failure(code, string(in));
            };
            return new Tagged<>(id, response);
        });
    }

    private static NodeStatus status3(ByteBuffer in) {
        int nodeId = in.getInt();
        String role = string(in);
        long term = in.getLong();
        int leader = in.getInt();
        long commit = in.getLong();
        long applied = in.getLong();
        long last = in.getLong();
        int n = count(in, 5, "members");
        SortedMap<Integer, Member.Kind> members = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            members.put(in.getInt(), kind(in.get()));
        }
        return new NodeStatus(nodeId, role, term, leader, commit, applied, last, members, bool(in));
    }

    private static NodeStatus status4(ByteBuffer in) {
        NodeStatus s = status3(in);
        NodeStatus.Details details = new NodeStatus.Details(string(in), in.getLong(), in.getLong(), in.getLong(), in.getLong(),
                in.getLong(), in.getLong(), in.getLong(), string(in), in.getLong(), in.getLong());
        return new NodeStatus(s.nodeId(), s.role(), s.term(), s.leaderId(), s.commitIndex(), s.appliedIndex(), s.lastIndex(),
                s.members(), s.removed(), details);
    }

    private static Membership membership(ByteBuffer in) {
        int leader = in.getInt();
        int n = count(in, 23, "members");
        List<Membership.MemberInfo> members = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            members.add(new Membership.MemberInfo(in.getInt(), string(in), kind(in.get()), in.getLong(), in.getLong()));
        }
        int r = count(in, 4, "removed ids");
        List<Integer> removed = new ArrayList<>(r);
        for (int i = 0; i < r; i++) {
            removed.add(in.getInt());
        }
        return new Membership(leader, members, removed);
    }

    private static MembershipChange change(ByteBuffer in) {
        int kind = in.get();
        int id = in.getInt();
        String address = string(in);
        return switch (kind) {
            case CHANGE_ADD, CHANGE_ADD_LEARNER -> new MembershipChange.AddLearner(id, address, kind == CHANGE_ADD);
            case CHANGE_PROMOTE -> new MembershipChange.Promote(id);
            case CHANGE_REMOVE -> new MembershipChange.Remove(id);
            default -> throw new ProtocolException("unknown membership change " + kind);
        };
    }

    /** A count read from the input, checked against the bytes left ({@code each} at least per item). */
    private static List<Bytes> keys(ByteBuffer in) {
        int n = count(in, 4, "keys");
        List<Bytes> keys = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            keys.add(bytes(in));
        }
        return keys;
    }

    private static int count(ByteBuffer in, int each, String what) {
        int n = in.getInt();
        if (n < 0 || n > in.remaining() / each) {
            throw new ProtocolException(n + " " + what + " with " + in.remaining() + " bytes left in the frame");
        }
        return n;
    }

    /** Member kinds on the wire: 0 voter, 1 learner, 2 joining (a learner promoted once caught up). */
    private static int kind(Member.Kind kind) {
        return switch (kind) {
            case VOTER -> 0;
            case LEARNER -> 1;
            case JOINING -> 2;
        };
    }

    private static Member.Kind kind(byte wire) {
        return switch (wire) {
            case 0 -> Member.Kind.VOTER;
            case 1 -> Member.Kind.LEARNER;
            case 2 -> Member.Kind.JOINING;
            default -> throw new ProtocolException("unknown member kind " + wire);
        };
    }

    // ---- primitives -----------------------------------------------------------------------------

    private interface Body<T> {
        T read();
    }

    private static <T> T decode(ByteBuffer in, String what, Body<T> body) {
        try {
            T value = body.read();
            if (in.hasRemaining()) {
                throw new ProtocolException(in.remaining() + " unexpected bytes after the " + what);
            }
            return value;
        } catch (BufferUnderflowException e) {
            throw new ProtocolException("truncated " + what);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("invalid " + what + ": " + e.getMessage());
        }
    }

    private static boolean bool(ByteBuffer in) {
        int b = in.get();
        if (b != 0 && b != 1) {
            throw new ProtocolException("a boolean byte must be 0 or 1, got " + b);
        }
        return b == 1;
    }

    private static Bytes bytes(ByteBuffer in) {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
            throw new ProtocolException("byte string of " + length + " bytes with " + in.remaining() + " left in the frame");
        }
        byte[] data = new byte[length];
        in.get(data);
        return Bytes.wrap(data);
    }

    private static String string(ByteBuffer in) {
        int length = Short.toUnsignedInt(in.getShort());
        if (length > in.remaining()) {
            throw new ProtocolException("text of " + length + " bytes with " + in.remaining() + " left in the frame");
        }
        byte[] data = new byte[length];
        in.get(data);
        return new String(data, StandardCharsets.UTF_8);
    }

    private static Session session(ByteBuffer in) {
        return new Session(in.getLong(), in.getLong(), in.getLong(), bool(in));
    }

    /** A growable big-endian output buffer. */
    private static final class Out {
        ByteBuffer buf = ByteBuffer.allocate(64);

        void ensure(int more) {
            if (buf.remaining() < more) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + more));
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
        }

        void bytes(Bytes b) {
            ensure(4 + b.length() + 64);
            buf.putInt(b.length()).put(b.unsafeArray());
        }

        void string(String s) {
            byte[] data = s.getBytes(StandardCharsets.UTF_8);
            int length = Math.min(data.length, 0xFFFF);
            ensure(2 + length + 64);
            buf.putShort((short) length).put(data, 0, length);
        }

        void session(Session s) {
            buf.putLong(s.clientId()).putLong(s.seq()).putLong(s.ackedBelow()).put((byte) (s.retry() ? 1 : 0));
        }

        ByteBuffer done() {
            return buf.flip();
        }
    }
}
