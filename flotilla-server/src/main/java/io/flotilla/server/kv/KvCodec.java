package io.flotilla.server.kv;

import io.flotilla.client.wire.ProtocolException;
import io.flotilla.client.wire.WireCodec;
import io.flotilla.core.Bytes;
import io.flotilla.core.Codec;
import java.nio.ByteBuffer;

/** Log payload of a {@link KvCommand}: the leader's time, then the request exactly as on the wire. */
public final class KvCodec implements Codec<KvCommand> {
    @Override
    public Bytes encode(KvCommand command) {
        ByteBuffer request = WireCodec.encodeRequest(0, command.write());
        ByteBuffer out = ByteBuffer.allocate(8 + request.remaining());
        out.putLong(command.leaderTimeMillis()).put(request);
        return Bytes.wrap(out.array());
    }

    @Override
    public KvCommand decode(Bytes bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes.unsafeArray()).asReadOnlyBuffer();
        if (in.remaining() < 8) {
            throw new IllegalArgumentException("key-value command of " + in.remaining() + " bytes is truncated");
        }
        long time = in.getLong();
        try {
            return new KvCommand(time, WireCodec.decodeRequest(in.slice()).body());
        } catch (ProtocolException e) {
            throw new IllegalArgumentException("bad key-value command: " + e.getMessage());
        }
    }
}
