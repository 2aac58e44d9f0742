package io.flotilla.server.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Session;
import io.flotilla.core.Bytes;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The log's payload format, pinned byte for byte: data directories of every version must read. */
class KvCodecTest {
    private final KvCodec codec = new KvCodec();
    private static final Request.Write WRITE = new Request.Set(new Session(7, 3, 2), Bytes.utf8("k"), Bytes.utf8("v"));
    private static final long TIME = 1_700_000_000_000L;

    /**
     * Writes as the builds before this format had its own code stored them (their wire request with
     * request id 0, after the leader's time), captured from such a build: they read, and are written,
     * unchanged.
     */
    @Test
    void writesKeepTheBytesEveryEarlierVersionStored() {
        List<Request.Write> writes = List.of(WRITE,
                new Request.Delete(new Session(7, 4, 4, true), Bytes.utf8("key")),
                new Request.Cas(new Session(-1, 9, 1), Bytes.utf8("k"), Optional.empty(), Bytes.utf8("new")),
                new Request.Cas(new Session(8, 10, 10), Bytes.utf8("k"), Optional.of(Bytes.utf8("old")), Bytes.utf8("")));
        List<String> stored = List.of(
                "0000018bcfe5680000000000000000000200000000000000070000000000000003000000000000000200000000016b0000000176",
                "0000018bcfe5680000000000000000000300000000000000070000000000000004000000000000000401000000036b6579",
                "0000018bcfe56800000000000000000004ffffffffffffffff0000000000000009000000000000000100000000016b00000000036e6577",
                "0000018bcfe568000000000000000000040000000000000008000000000000000a000000000000000a00000000016b01000000036f6c6400000000");
        for (int i = 0; i < writes.size(); i++) {
            KvCommand.Write w = new KvCommand.Write(TIME, writes.get(i));
            Bytes bytes = Bytes.wrap(HexFormat.of().parseHex(stored.get(i)));
            assertThat(codec.decode(bytes)).isEqualTo(w);
            assertThat(codec.encode(w)).isEqualTo(bytes);
        }
    }

    @Test
    void writesOfManyKeysRoundTripAndCountsAreCheckedAgainstTheBytes() {
        for (Request.Write w : List.<Request.Write>of(
                new Request.SetMany(new Session(3, 2, 1), List.of(new Request.KeyValue(Bytes.utf8("a"), Bytes.utf8("1")),
                        new Request.KeyValue(Bytes.utf8("b"), Bytes.EMPTY))),
                new Request.DeleteMany(new Session(3, 3, 3, true), List.of(Bytes.utf8("a"), Bytes.utf8("bb"))))) {
            KvCommand.Write command = new KvCommand.Write(TIME, w);
            assertThat(codec.decode(codec.encode(command))).isEqualTo(command);
        }
        byte[] bytes = codec.encode(new KvCommand.Write(TIME, new Request.DeleteMany(new Session(3, 3, 3), List.of(Bytes.utf8("a")))))
                .unsafeArray().clone();
        java.nio.ByteBuffer.wrap(bytes).putInt(42, Integer.MAX_VALUE); // the count, after the 42 bytes of time, type and session
        assertThatThrownBy(() -> codec.decode(Bytes.wrap(bytes))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Integer.MAX_VALUE + " items");
    }

    @Test
    void sessionLimitsRoundTripAndUnknownKindsAreRefused() {
        KvCommand.Limits limits = new KvCommand.Limits(new SessionLimits(600_000, 100_000, 50, 1_000_000));
        assertThat(codec.decode(codec.encode(limits))).isEqualTo(limits);
        assertThatThrownBy(() -> codec.decode(Bytes.wrap(new byte[] {2, 0, 0, 0, 0, 0, 0, 0, 0})))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown key-value command kind 2");
        assertThatThrownBy(() -> new KvCommand.Write(-1, WRITE)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void damagedWritesAreRefusedWithAReason() {
        byte[] good = codec.encode(new KvCommand.Write(TIME, WRITE)).unsafeArray();
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 1);
        assertThatThrownBy(() -> codec.decode(Bytes.wrap(truncated))).isInstanceOf(IllegalArgumentException.class);
        byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
        assertThatThrownBy(() -> codec.decode(Bytes.wrap(longer))).hasMessageContaining("1 unexpected bytes");
        byte[] badType = good.clone();
        badType[16] = 9;
        assertThatThrownBy(() -> codec.decode(Bytes.wrap(badType))).hasMessageContaining("unknown write type 9");
    }
}
