package io.flotilla.server.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Session;
import io.flotilla.client.wire.WireCodec;
import io.flotilla.core.Bytes;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class KvCodecTest {
    private final KvCodec codec = new KvCodec();
    private static final Request WRITE = new Request.Set(new Session(7, 3, 2), Bytes.utf8("k"), Bytes.utf8("v"));

    @Test
    void logEntriesWrittenBeforeSessionLimitsStillRead() {
        ByteBuffer request = WireCodec.encodeRequest(0, WRITE);
        ByteBuffer old = ByteBuffer.allocate(8 + request.remaining()).putLong(1_700_000_000_000L).put(request);
        KvCommand.Write w = new KvCommand.Write(1_700_000_000_000L, WRITE);
        assertThat(codec.decode(Bytes.wrap(old.array()))).isEqualTo(w);
        assertThat(codec.encode(w)).isEqualTo(Bytes.wrap(old.array())); // writes keep their form
    }

    @Test
    void sessionLimitsRoundTripAndUnknownKindsAreRefused() {
        KvCommand.Limits limits = new KvCommand.Limits(new SessionLimits(600_000, 100_000, 50, 1_000_000));
        assertThat(codec.decode(codec.encode(limits))).isEqualTo(limits);
        assertThatThrownBy(() -> codec.decode(Bytes.wrap(new byte[] {2, 0, 0, 0, 0, 0, 0, 0, 0})))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown key-value command kind 2");
        assertThatThrownBy(() -> new KvCommand.Write(-1, WRITE)).isInstanceOf(IllegalArgumentException.class);
    }
}
