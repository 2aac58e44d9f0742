package io.flotilla.server.kv;

import io.flotilla.client.wire.ProtocolException;
import io.flotilla.client.wire.WireCodec;
import io.flotilla.core.Bytes;
import io.flotilla.core.Codec;
import java.nio.ByteBuffer;

/**
 * Log payload of a {@link KvCommand}; the first byte says which. A write (0) is the leader's time
 * (`i64`, whose top byte is that 0), then the request exactly as on the wire: the only form before
 * session limits went into the log, so logs written then read unchanged. Session limits (1) are
 * timeout `i64`, max sessions `i32`, max outcomes per session `i32`, max outcomes `i32`.
 */
public final class KvCodec implements Codec<KvCommand> {
    private static final byte WRITE = 0;
    private static final byte LIMITS = 1;
    private static final int LIMITS_BYTES = 1 + 8 + 4 + 4 + 4;

    @Override
    public Bytes encode(KvCommand command) {
        if (command instanceof KvCommand.Write w) {
            ByteBuffer request = WireCodec.encodeRequest(0, w.write());
            ByteBuffer out = ByteBuffer.allocate(8 + request.remaining());
            out.putLong(w.leaderTimeMillis()).put(request); // the time's top byte is 0: WRITE
            return Bytes.wrap(out.array());
        }
        SessionLimits l = ((KvCommand.Limits) command).sessions();
        ByteBuffer out = ByteBuffer.allocate(LIMITS_BYTES);
        out.put(LIMITS).putLong(l.timeoutMillis()).putInt(l.maxSessions()).putInt(l.maxOutcomesPerSession()).putInt(l.maxOutcomes());
        return Bytes.wrap(out.array());
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
        if (in.remaining() < 8) {
            throw new IllegalArgumentException("key-value command of " + in.remaining() + " bytes is truncated");
        }
        long time = in.getLong();
        try {
            return new KvCommand.Write(time, WireCodec.decodeRequest(in.slice()).body());
        } catch (ProtocolException e) {
            throw new IllegalArgumentException("bad key-value command: " + e.getMessage());
        }
    }
}
