package io.flotilla.core.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.Bytes;
import io.flotilla.core.MemoryStorage;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.message.InstallSnapshot;
import io.flotilla.core.message.SnapshotResponse;
import java.io.IOException;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** Raft §7 with a checksum: a follower verifies the whole snapshot before installing, and asks again from 0 on a mismatch. */
class SnapshotChecksumRuleTest {
    private static final int CHUNK = 64;

    @Test
    void aCorruptedChunkIsNotInstalledAndTheTransferStartsOverUntilTheSnapshotIsWhole() throws IOException {
        Network net = Network.of(3, id -> NodeHarness.config(id).withBatching(8, CHUNK, 64));
        net.elect(1);
        net.isolate(3);
        for (int i = 0; i < 20; i++) {
            net.propose(1, "cmd" + i);
        }
        net.run(1);
        MemoryStorage leader = net.node(1).storage;
        long index = net.raft(1).commitIndex();
        SnapshotMeta meta = new SnapshotMeta(index, leader.term(index), net.raft(1).members());
        byte[] state = new byte[1000];
        for (int i = 0; i < state.length; i++) {
            state[i] = (byte) (i * 31 + 7);
        }
        try (var sink = leader.beginSnapshot(meta)) {
            sink.out().write(state);
            sink.commit();
        }
        leader.compact(index);
        boolean[] corrupted = {false};
        net.rewrite(m -> {
            if (m instanceof InstallSnapshot s && s.offset() == 5 * CHUNK && !corrupted[0]) {
                corrupted[0] = true;
                byte[] bad = s.chunk().unsafeArray().clone();
                bad[3] ^= 1;
                return new InstallSnapshot(s.from(), s.to(), s.term(), s.meta(), s.offset(), Bytes.wrap(bad), s.done(), s.checksum());
            }
            return m;
        });
        net.heal(3);
        net.run(20 * NodeHarness.HEARTBEAT_TICKS);

        assertThat(corrupted[0]).isTrue();
        assertThat(net.node(3).storage.latestSnapshot()).contains(meta);
        try (var in = net.node(3).storage.openSnapshot()) {
            assertThat(in.readAllBytes()).isEqualTo(state);
        }
        assertThat(NodeHarness.ofType(net.delivered, SnapshotResponse.class).stream().filter(SnapshotResponse::done).count())
                .as("acknowledged as installed once, after the whole snapshot checked out").isEqualTo(1);
    }
}
