package io.flotilla.core.message;

import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.EntryType;
import io.flotilla.core.LogEntry;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary wire format of Raft {@link Message}s.
 *
 * <p>The format is fixed-width and big-endian, with no varints and no optional fields: a message
 * has exactly one encoding, which keeps the decoder short enough to check by eye and lets the
 * tests demand that decoding then re-encoding gives back the same bytes. The transport frames
 * messages, so a message has no length prefix of its own: it is the whole frame.
 *
 * <h2>Layout</h2>
 *
 * <pre>
 * Every message starts with an 18-byte header:
 *   version        u8    always {@value #VERSION}
 *   kind           u8    {@link Message.Kind#code()}: 1 RequestVote, 2 VoteResponse,
 *                        3 AppendEntries, 4 AppendResponse, 5 TimeoutNow, 6 InstallSnapshot,
 *                        7 SnapshotResponse, 8 BootstrapProbe, 9 BootstrapProbeResponse
 *   from           i32   sender node id, &gt; 0
 *   to             i32   receiver node id, &gt; 0
 *   term           i64   &gt;= 0
 *
 * followed by the fields of its kind:
 *   RequestVote     lastLogIndex i64, lastLogTerm i64, preVote bool, transfer bool
 *   VoteResponse    granted bool, preVote bool
 *   AppendEntries   prevLogIndex i64, prevLogTerm i64, leaderCommit i64, round i64,
 *                   count i32, then count entries of:
 *                     index i64, term i64, type u8 ({@link EntryType#code()}),
 *                     length i32, payload (length bytes)
 *   AppendResponse  success bool, index i64, hintIndex i64, hintTerm i64, round i64
 *   TimeoutNow      (nothing)
 *   InstallSnapshot index i64, snapshotTerm i64, config length i32, configuration (ClusterConfig.encode),
 *                   offset i64, done bool, checksum i32 (CRC32C of the whole snapshot's data),
 *                   length i32, chunk (length bytes)
 *   SnapshotResponse index i64, nextOffset i64, done bool
 *   BootstrapProbe  (nothing)
 *   BootstrapProbeResponse lastIndex i64
 *
 * bool is one byte, 0 or 1. Integers are two's complement, big-endian.
 * Every i64 field (terms, indexes, rounds) must be &gt;= 0; entries' indexes and terms &gt;= 1,
 * and their indexes must run on contiguously from prevLogIndex + 1.
 * </pre>
 *
 * <h2>Untrusted input</h2>
 *
 * <p>{@link #decode} treats its input as hostile: every problem becomes a
 * {@link MessageFormatException}, and no length or count read from the input is used to allocate
 * before it is checked against the bytes actually present, so a corrupt frame can cost at most
 * {@code maxMessageBytes} of memory, never an {@link OutOfMemoryError}.
 *
 * <p>{@link #encode} trusts its messages (they come from our own state machine) and checks only
 * their size, so that an oversized batch fails at the sender rather than at every receiver.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class MessageCodec {
    /** The format version written in the first byte of every message. */
    public static final int VERSION = 2;

    /** version, kind, from, to, term. */
    static final int HEADER_BYTES = 1 + 1 + 4 + 4 + 8;
    /** An entry's fixed part: index, term, type, payload length. */
    static final int MIN_ENTRY_BYTES = 8 + 8 + 1 + 4;

    private static final int REQUEST_VOTE_BODY = 8 + 8 + 1 + 1;
    private static final int VOTE_RESPONSE_BODY = 1 + 1;
    /** prevLogIndex, prevLogTerm, leaderCommit, round, entry count; the entries come on top. */
    private static final int APPEND_ENTRIES_FIXED_BODY = 8 + 8 + 8 + 8 + 4;
    private static final int APPEND_RESPONSE_BODY = 1 + 8 + 8 + 8 + 8;
    private static final int SNAPSHOT_RESPONSE_BODY = 8 + 8 + 1;

    private final int maxMessageBytes;

    /** @param maxMessageBytes the largest message, in bytes, this codec encodes or accepts */
    public MessageCodec(int maxMessageBytes) {
        if (maxMessageBytes <= 0) {
            throw new IllegalArgumentException("maxMessageBytes must be positive, got " + maxMessageBytes);
        }
        this.maxMessageBytes = maxMessageBytes;
    }

    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    /**
     * The exact number of bytes {@link #encode} writes for {@code m}.
     *
     * @throws IllegalArgumentException if that exceeds what an {@code int} can count
     */
    public int encodedSize(Message m) {
        long size = HEADER_BYTES + switch (m.kind()) {
            case REQUEST_VOTE -> REQUEST_VOTE_BODY;
            case VOTE_RESPONSE -> VOTE_RESPONSE_BODY;
            case APPEND_ENTRIES -> appendEntriesBodySize((AppendEntries) m);
            case APPEND_RESPONSE -> APPEND_RESPONSE_BODY;
            case TIMEOUT_NOW -> 0;
            case INSTALL_SNAPSHOT -> installSnapshotBodySize((InstallSnapshot) m);
            case SNAPSHOT_RESPONSE -> SNAPSHOT_RESPONSE_BODY;
            case BOOTSTRAP_PROBE -> 0;
            case BOOTSTRAP_PROBE_RESPONSE -> 8;
        };
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(m.kind() + " of " + size + " bytes is too large to encode");
        }
        return (int) size;
    }

    private static long installSnapshotBodySize(InstallSnapshot m) {
        return 8 + 8 + 4 + m.meta().config().encode().length() + 8 + 1 + 4 + 4 + m.chunk().length();
    }

    private static long appendEntriesBodySize(AppendEntries m) {
        long size = APPEND_ENTRIES_FIXED_BODY;
        for (LogEntry e : m.entries()) {
            size += MIN_ENTRY_BYTES + e.data().length();
        }
        return size;
    }

    /**
     * Writes {@code m} at {@code out}'s position and advances it past the message. Writes
     * big-endian whatever {@code out}'s byte order, and writes nothing if {@code out} is too small.
     *
     * @throws IllegalArgumentException if {@code m} is larger than {@code maxMessageBytes}
     * @throws BufferOverflowException if {@code out} has fewer bytes remaining than
     *         {@link #encodedSize}
     */
    public void encode(Message m, ByteBuffer out) {
        int size = encodedSize(m);
        if (size > maxMessageBytes) {
            throw new IllegalArgumentException(m.kind() + " of " + size + " bytes exceeds the maximum of "
                    + maxMessageBytes + " bytes");
        }
        if (out.remaining() < size) {
            throw new BufferOverflowException();
        }
        ByteBuffer view = out.duplicate().order(ByteOrder.BIG_ENDIAN);
        write(m, view);
        if (view.position() - out.position() != size) {
            throw new AssertionError("encodedSize disagrees with encode for " + m.kind());
        }
        out.position(view.position());
    }

    /** {@code m} encoded into a new array of exactly {@link #encodedSize} bytes. */
    public byte[] encode(Message m) {
        byte[] bytes = new byte[encodedSize(m)];
        encode(m, ByteBuffer.wrap(bytes));
        return bytes;
    }

    private static void write(Message m, ByteBuffer out) {
        out.put((byte) VERSION).put((byte) m.kind().code()).putInt(m.from()).putInt(m.to()).putLong(m.term());
        switch (m.kind()) {
            case REQUEST_VOTE -> {
                RequestVote v = (RequestVote) m;
                out.putLong(v.lastLogIndex()).putLong(v.lastLogTerm());
                putBoolean(out, v.preVote());
                putBoolean(out, v.transfer());
            }
            case VOTE_RESPONSE -> {
                VoteResponse v = (VoteResponse) m;
                putBoolean(out, v.granted());
                putBoolean(out, v.preVote());
            }
            case APPEND_ENTRIES -> {
                AppendEntries a = (AppendEntries) m;
                out.putLong(a.prevLogIndex()).putLong(a.prevLogTerm()).putLong(a.leaderCommit()).putLong(a.round());
                out.putInt(a.entries().size());
                for (LogEntry e : a.entries()) {
                    byte[] payload = e.data().unsafeArray();
                    out.putLong(e.index()).putLong(e.term()).put((byte) e.type().code());
                    out.putInt(payload.length).put(payload);
                }
            }
            case APPEND_RESPONSE -> {
                AppendResponse r = (AppendResponse) m;
                putBoolean(out, r.success());
                out.putLong(r.index()).putLong(r.hintIndex()).putLong(r.hintTerm()).putLong(r.round());
            }
            case TIMEOUT_NOW -> {
                // The header says it all.
            }
            case INSTALL_SNAPSHOT -> {
                InstallSnapshot s = (InstallSnapshot) m;
                Bytes config = s.meta().config().encode();
                out.putLong(s.meta().index()).putLong(s.meta().term()).putInt(config.length()).put(config.unsafeArray());
                out.putLong(s.offset());
                putBoolean(out, s.done());
                out.putInt(s.checksum());
                out.putInt(s.chunk().length()).put(s.chunk().unsafeArray());
            }
            case SNAPSHOT_RESPONSE -> {
                SnapshotResponse s = (SnapshotResponse) m;
                out.putLong(s.index()).putLong(s.nextOffset());
                putBoolean(out, s.done());
            }
            case BOOTSTRAP_PROBE -> {
                // The header says it all.
            }
            case BOOTSTRAP_PROBE_RESPONSE -> out.putLong(((BootstrapProbeResponse) m).lastIndex());
            default -> throw new AssertionError("no encoding for " + m.kind());
        }
    }

    private static void putBoolean(ByteBuffer out, boolean value) {
        out.put((byte) (value ? 1 : 0));
    }

    /**
     * Decodes the one message that fills {@code in}'s remaining bytes and advances {@code in} to
     * its limit. Reads big-endian whatever {@code in}'s byte order. On failure {@code in} is left
     * untouched.
     *
     * @throws MessageFormatException if the bytes are not exactly one valid message
     */
    public Message decode(ByteBuffer in) {
        if (in.remaining() > maxMessageBytes) {
            throw new MessageFormatException("message of " + in.remaining() + " bytes exceeds the maximum of "
                    + maxMessageBytes + " bytes");
        }
        Reader r = new Reader(in.duplicate().order(ByteOrder.BIG_ENDIAN));
        int version = r.unsignedByte("version");
        if (version != VERSION) {
            throw new MessageFormatException("unknown version " + version + ", expected " + VERSION);
        }
        Message.Kind kind = kindOf(r.unsignedByte("kind"));
        int from = r.nodeId("from");
        int to = r.nodeId("to");
        long term = r.nonNegativeLong("term");
        Message m;
        try {
            m = switch (kind) {
                case REQUEST_VOTE -> new RequestVote(from, to, term, r.nonNegativeLong("lastLogIndex"),
                        r.nonNegativeLong("lastLogTerm"), r.bool("preVote"), r.bool("transfer"));
                case VOTE_RESPONSE -> new VoteResponse(from, to, term, r.bool("granted"), r.bool("preVote"));
                case APPEND_ENTRIES -> readAppendEntries(from, to, term, r);
                case APPEND_RESPONSE -> new AppendResponse(from, to, term, r.bool("success"),
                        r.nonNegativeLong("index"), r.nonNegativeLong("hintIndex"), r.nonNegativeLong("hintTerm"),
                        r.nonNegativeLong("round"));
                case TIMEOUT_NOW -> new TimeoutNow(from, to, term);
                case INSTALL_SNAPSHOT -> readInstallSnapshot(from, to, term, r);
                case SNAPSHOT_RESPONSE -> new SnapshotResponse(from, to, term, r.nonNegativeLong("index"),
                        r.nonNegativeLong("nextOffset"), r.bool("done"));
                case BOOTSTRAP_PROBE -> new BootstrapProbe(from, to, term);
                case BOOTSTRAP_PROBE_RESPONSE -> new BootstrapProbeResponse(from, to, term, r.nonNegativeLong("lastIndex"));
            };
        } catch (IllegalArgumentException e) {
            // A record constructor refused the fields, e.g. AppendEntries with non-contiguous entries.
            throw new MessageFormatException("invalid " + kind + ": " + e.getMessage(), e);
        }
        if (r.in.hasRemaining()) {
            throw new MessageFormatException(r.in.remaining() + " trailing bytes after a complete " + kind);
        }
        in.position(in.limit());
        return m;
    }

    private static InstallSnapshot readInstallSnapshot(int from, int to, long term, Reader r) {
        long index = r.nonNegativeLong("snapshot index");
        long snapshotTerm = r.nonNegativeLong("snapshot term");
        int configLength = r.int32("configuration length");
        if (configLength < 1 || configLength > r.in.remaining()) {
            throw new MessageFormatException("configuration length " + configLength + " with " + r.in.remaining()
                    + " bytes remaining");
        }
        byte[] configBytes = new byte[configLength];
        r.in.get(configBytes);
        ClusterConfig config;
        try {
            config = ClusterConfig.decode(Bytes.wrap(configBytes));
        } catch (IllegalArgumentException e) {
            throw new MessageFormatException("invalid configuration: " + e.getMessage(), e);
        }
        if (!config.encode().equals(Bytes.wrap(configBytes))) {
            // One encoding per message: the current format, members and removed ids ascending.
            throw new MessageFormatException("configuration not in its canonical encoding");
        }
        long offset = r.nonNegativeLong("offset");
        boolean done = r.bool("done");
        int checksum = r.int32("checksum");
        int length = r.int32("chunk length");
        if (length < 0 || length > r.in.remaining()) {
            throw new MessageFormatException("chunk length " + length + " with " + r.in.remaining() + " bytes remaining");
        }
        byte[] chunk = new byte[length];
        r.in.get(chunk);
        return new InstallSnapshot(from, to, term, new SnapshotMeta(index, snapshotTerm, config),
                offset, Bytes.wrap(chunk), done, checksum);
    }

    private static AppendEntries readAppendEntries(int from, int to, long term, Reader r) {
        long prevLogIndex = r.nonNegativeLong("prevLogIndex");
        long prevLogTerm = r.nonNegativeLong("prevLogTerm");
        long leaderCommit = r.nonNegativeLong("leaderCommit");
        long round = r.nonNegativeLong("round");
        int count = r.int32("entry count");
        if (count < 0) {
            throw new MessageFormatException("negative entry count " + count);
        }
        // Each entry takes at least MIN_ENTRY_BYTES, so a count the input cannot hold is caught here,
        // before it sizes the list.
        if (count > r.in.remaining() / MIN_ENTRY_BYTES) {
            throw new MessageFormatException("entry count " + count + " cannot fit in the " + r.in.remaining()
                    + " bytes remaining");
        }
        List<LogEntry> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            entries.add(readEntry(i, r));
        }
        return new AppendEntries(from, to, term, prevLogIndex, prevLogTerm, entries, leaderCommit, round);
    }

    private static LogEntry readEntry(int i, Reader r) {
        String name = "entry " + i;
        long index = r.nonNegativeLong(name + " index");
        long term = r.nonNegativeLong(name + " term");
        int typeCode = r.unsignedByte(name + " type");
        EntryType type;
        try {
            type = EntryType.ofCode(typeCode);
        } catch (IllegalArgumentException e) {
            throw new MessageFormatException("unknown entry type " + typeCode + " in " + name, e);
        }
        int length = r.int32(name + " payload length");
        if (length < 0) {
            throw new MessageFormatException("negative " + name + " payload length " + length);
        }
        if (length > r.in.remaining()) {
            throw new MessageFormatException(name + " payload length " + length + " exceeds the "
                    + r.in.remaining() + " bytes remaining");
        }
        byte[] payload = new byte[length];
        r.in.get(payload);
        try {
            return new LogEntry(index, term, type, Bytes.wrap(payload));
        } catch (IllegalArgumentException e) {
            throw new MessageFormatException("invalid " + name + ": " + e.getMessage(), e);
        }
    }

    private static Message.Kind kindOf(int code) {
        for (Message.Kind kind : Message.Kind.values()) {
            if (kind.code() == code) {
                return kind;
            }
        }
        throw new MessageFormatException("unknown message kind " + code);
    }

    /** Reads fields by name, so that every failure can say which field was wrong. */
    private static final class Reader {
        final ByteBuffer in;

        Reader(ByteBuffer in) {
            this.in = in;
        }

        private void require(String field, int bytes) {
            if (in.remaining() < bytes) {
                throw new MessageFormatException("truncated input: " + field + " needs " + bytes + " bytes but "
                        + in.remaining() + " remain (" + (bytes - in.remaining()) + " missing)");
            }
        }

        int unsignedByte(String field) {
            require(field, 1);
            return in.get() & 0xFF;
        }

        boolean bool(String field) {
            int b = unsignedByte(field);
            if (b > 1) {
                throw new MessageFormatException("bad boolean byte " + b + " for " + field + ", expected 0 or 1");
            }
            return b == 1;
        }

        int int32(String field) {
            require(field, 4);
            return in.getInt();
        }

        long long64(String field) {
            require(field, 8);
            return in.getLong();
        }

        int nodeId(String field) {
            int id = int32(field);
            if (id <= 0) {
                throw new MessageFormatException("non-positive node id " + id + " in " + field);
            }
            return id;
        }

        long nonNegativeLong(String field) {
            long value = long64(field);
            if (value < 0) {
                throw new MessageFormatException("negative " + field + " " + value);
            }
            return value;
        }
    }
}
