package io.flotilla.server.kv;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Session;
import io.flotilla.core.Bytes;
import io.flotilla.core.Codec;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The log's payload format: a {@link KvCommand} as it is stored on disk and replicated. It is its
 * own format, written and read here alone, and not the client wire encoding: a change of the wire
 * protocol is not a change of the data directory, and old logs stay readable whatever the wire
 * becomes. The first byte is the payload's kind and version; a new layout takes a new number, and
 * the old numbers stay readable.
 *
 * <p>0, a write: the leader's time {@code i64} (whose top byte is that 0), 8 bytes that are 0, the
 * write's type {@code u8} (2 SET, 3 DELETE, 4 CAS), its session (client id, seq, acked below
 * {@code i64}, retry {@code bool}), the key, then for a SET the value, for a CAS whether an expected
 * value follows ({@code bool}), that value, and the new value; byte strings are an {@code i32} length
 * and the bytes. (Until this format had its own code, a write was stored as its wire request with
 * request id 0, which is these very bytes: so logs of every version read unchanged.) Types 5
 * SET_MANY and 6 DELETE_MANY (the Redis port's MSET and DEL) have, after the session, a count
 * {@code i32} and that many key-value pairs, or keys.
 *
 * <p>1, session limits: timeout {@code i64} (ms), max sessions, max outcomes per session and max
 * outcomes ({@code i32} each).
 */
public final class KvCodec implements Codec<KvCommand> {
    private static final byte WRITE = 0;
    private static final byte LIMITS = 1;
    private static final int LIMITS_BYTES = 1 + 8 + 4 + 4 + 4;
    private static final int SET = 2;
    private static final int DELETE = 3;
    private static final int CAS = 4;
    private static final int SET_MANY = 5;
    private static final int DELETE_MANY = 6;
    /** Time, the zero bytes, type, session: what comes before the key. */
    private static final int WRITE_HEADER_BYTES = 8 + 8 + 1 + 8 + 8 + 8 + 1;

    @Override
    public Bytes encode(KvCommand command) {
        if (command instanceof KvCommand.Write w) {
            return Bytes.wrap(encodeWrite(w.leaderTimeMillis(), w.write()));
        }
        SessionLimits l = ((KvCommand.Limits) command).sessions();
        ByteBuffer out = ByteBuffer.allocate(LIMITS_BYTES);
        out.put(LIMITS).putLong(l.timeoutMillis()).putInt(l.maxSessions()).putInt(l.maxOutcomesPerSession()).putInt(l.maxOutcomes());
        return Bytes.wrap(out.array());
    }

    private static byte[] encodeWrite(long time, Request.Write write) {
        if (write instanceof Request.SetMany m) {
            int size = WRITE_HEADER_BYTES + 4 + m.entries().stream().mapToInt(e -> 8 + e.key().length() + e.value().length()).sum();
            ByteBuffer out = header(ByteBuffer.allocate(size), time, SET_MANY, m.session()).putInt(m.entries().size());
            m.entries().forEach(e -> putBytes(putBytes(out, e.key()), e.value()));
            return out.array();
        }
        if (write instanceof Request.DeleteMany d) {
            int size = WRITE_HEADER_BYTES + 4 + d.keys().stream().mapToInt(k -> 4 + k.length()).sum();
            ByteBuffer out = header(ByteBuffer.allocate(size), time, DELETE_MANY, d.session()).putInt(d.keys().size());
            d.keys().forEach(k -> putBytes(out, k));
            return out.array();
        }
        Optional<Bytes> expected = write instanceof Request.Cas c ? c.expected() : Optional.empty();
        Optional<Bytes> value = write instanceof Request.Set s ? Optional.of(s.value())
                : write instanceof Request.Cas c ? Optional.of(c.value()) : Optional.empty();
        Bytes key = key(write);
        int size = WRITE_HEADER_BYTES + 4 + key.length() + (write instanceof Request.Cas ? 1 : 0)
                + expected.map(e -> 4 + e.length()).orElse(0) + value.map(v -> 4 + v.length()).orElse(0);
        ByteBuffer out = header(ByteBuffer.allocate(size), time, type(write), write.session());
        putBytes(out, key);
        if (write instanceof Request.Cas) {
            out.put((byte) (expected.isPresent() ? 1 : 0));
            expected.ifPresent(e -> putBytes(out, e));
        }
        value.ifPresent(v -> putBytes(out, v));
        return out.array();
    }

    private static ByteBuffer header(ByteBuffer out, long time, int type, Session s) {
        return out.putLong(time).putLong(0).put((byte) type)
                .putLong(s.clientId()).putLong(s.seq()).putLong(s.ackedBelow()).put((byte) (s.retry() ? 1 : 0));
    }

    private static int type(Request.Write write) {
        return write instanceof Request.Set ? SET : write instanceof Request.Delete ? DELETE : CAS;
    }

    private static Bytes key(Request.Write write) {
        if (write instanceof Request.Set s) {
            return s.key();
        }
        return write instanceof Request.Delete d ? d.key() : ((Request.Cas) write).key();
    }

    private static ByteBuffer putBytes(ByteBuffer out, Bytes b) {
        return out.putInt(b.length()).put(b.unsafeArray());
    }

    @Override
    public KvCommand decode(Bytes bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes.unsafeArray()).asReadOnlyBuffer();
        if (in.remaining() < 1) {
            throw new IllegalArgumentException("empty key-value command");
        }
        byte kind = in.get(0);
        if (kind == LIMITS) {
            if (in.remaining() != LIMITS_BYTES) {
                throw new IllegalArgumentException("session limits command of " + in.remaining() + " bytes; expected " + LIMITS_BYTES);
            }
            in.get();
            return new KvCommand.Limits(new SessionLimits(in.getLong(), in.getInt(), in.getInt(), in.getInt()));
        }
        if (kind != WRITE) {
            throw new IllegalArgumentException("unknown key-value command kind " + (kind & 0xff) + " (written by a newer version?)");
        }
        try {
            KvCommand.Write write = decodeWrite(in);
            if (in.hasRemaining()) {
                throw new IllegalArgumentException(in.remaining() + " unexpected bytes after the write");
            }
            return write;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("key-value command of " + bytes.length() + " bytes is truncated");
        }
    }

    private static KvCommand.Write decodeWrite(ByteBuffer in) {
        long time = in.getLong();
        in.getLong(); // the zero bytes
        int type = in.get();
        Session session = new Session(in.getLong(), in.getLong(), in.getLong(), bool(in));
        Request.Write write = switch (type) {
            case SET -> new Request.Set(session, bytes(in), bytes(in));
            case DELETE -> new Request.Delete(session, bytes(in));
            case CAS -> {
                Bytes key = bytes(in);
                Optional<Bytes> expected = bool(in) ? Optional.of(bytes(in)) : Optional.empty();
                yield new Request.Cas(session, key, expected, bytes(in));
            }
            case SET_MANY -> {
                int n = count(in, 8);
                List<Request.KeyValue> entries = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    entries.add(new Request.KeyValue(bytes(in), bytes(in)));
                }
                yield new Request.SetMany(session, entries);
            }
            case DELETE_MANY -> {
                int n = count(in, 4);
                List<Bytes> keys = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    keys.add(bytes(in));
                }
                yield new Request.DeleteMany(session, keys);
            }
            default -> throw new IllegalArgumentException("unknown write type " + type + " in a key-value command");
        };
        return new KvCommand.Write(time, write);
    }

    /** A count of items of at least {@code each} bytes, checked against the bytes present. */
    private static int count(ByteBuffer in, int each) {
        int n = in.getInt();
        if (n < 0 || n > in.remaining() / each) {
            throw new IllegalArgumentException(n + " items with " + in.remaining() + " bytes left in a key-value command");
        }
        return n;
    }

    private static boolean bool(ByteBuffer in) {
        int b = in.get();
        if (b != 0 && b != 1) {
            throw new IllegalArgumentException("a boolean byte must be 0 or 1, got " + b);
        }
        return b == 1;
    }

    private static Bytes bytes(ByteBuffer in) {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
            throw new IllegalArgumentException("byte string of " + length + " bytes with " + in.remaining() + " left");
        }
        byte[] data = new byte[length];
        in.get(data);
        return Bytes.wrap(data);
    }
}
