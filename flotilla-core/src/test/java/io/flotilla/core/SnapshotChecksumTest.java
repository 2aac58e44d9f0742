package io.flotilla.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.message.InstallSnapshot;
import io.flotilla.core.message.Message;
import io.flotilla.core.message.SnapshotResponse;
import io.flotilla.core.protocol.RaftConfig;
import io.flotilla.core.protocol.RaftNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * A follower installs a snapshot only if the data it assembled matches the checksum the leader sent
 * with it: a corrupted chunk is never installed, nor acknowledged as installed.
 */
class SnapshotChecksumTest {
    private static final SnapshotMeta META = new SnapshotMeta(50, 2, ClusterConfig.of(1, 2, 3));

    private final MemoryStorage storage = new MemoryStorage();
    private final List<Message> sent = new ArrayList<>();
    private final RaftRuntimeTest.Journal journal = new RaftRuntimeTest.Journal();
    private final NodeDriver<Long, String, Long> follower;

    SnapshotChecksumTest() {
        storage.bootstrap(ClusterConfig.of(1, 2, 3));
        RaftNode node = new RaftNode(RaftConfig.defaults(2), storage, new SplittableRandom(1));
        follower = new NodeDriver<>(node, storage, journal, RaftRuntimeTest.LONGS, sent::add, role -> { });
    }

    /** A journal's snapshot of 1..n: what the leader's state machine would have written. */
    private static byte[] snapshotOf(int n) throws IOException {
        RaftRuntimeTest.Journal source = new RaftRuntimeTest.Journal();
        for (long i = 1; i <= n; i++) {
            source.apply(i, i);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        source.snapshot().writeTo(out);
        return out.toByteArray();
    }

    private static int crc32c(byte[] data) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        return (int) crc.getValue();
    }

    /** Sends {@code data} in three chunks labelled with {@code checksum}; true if the follower did not stop. */
    private boolean transfer(byte[] data, int checksum) {
        int third = data.length / 3;
        int[] cuts = {0, third, 2 * third, data.length};
        try {
            for (int k = 0; k < 3; k++) {
                follower.receive(new InstallSnapshot(1, 2, 2, META, cuts[k], Bytes.wrap(Arrays.copyOfRange(data, cuts[k], cuts[k + 1])),
                        k == 2, checksum));
                follower.process();
            }
            return true;
        } catch (IllegalStateException refused) {
            assertThat(refused).hasMessageContaining("fails its checksum");
            return false; // the runtime stops the node (fail-stop) rather than install it
        }
    }

    private boolean acknowledgedAsInstalled() {
        return sent.stream().anyMatch(m -> m instanceof SnapshotResponse r && r.done());
    }

    @Test
    void anIntactSnapshotIsInstalled() throws IOException {
        byte[] data = snapshotOf(40);
        assertThat(transfer(data, crc32c(data))).isTrue();
        assertThat(storage.latestSnapshot()).contains(META);
        assertThat(journal.copy()).hasSize(40);
        assertThat(acknowledgedAsInstalled()).isTrue();
    }

    @Test
    void aSnapshotWithACorruptedChunkIsNeverInstalled() throws IOException {
        byte[] data = snapshotOf(40);
        int checksum = crc32c(data);
        data[data.length / 2] ^= 0x10; // flipped on the way

        transfer(data, checksum);

        assertThat(storage.latestSnapshot()).isEmpty();
        assertThat(journal.copy()).isEmpty();
        assertThat(acknowledgedAsInstalled()).isFalse();
    }

    @Test
    void chunksOfDifferentSnapshotsUnderOneLabelAreNeverInstalled() throws IOException {
        byte[] one = snapshotOf(40);
        byte[] other = snapshotOf(40);
        other[other.length - 1] ^= 1;
        int third = one.length / 3;
        try {
            follower.receive(new InstallSnapshot(1, 2, 2, META, 0, Bytes.wrap(Arrays.copyOf(one, third)), false, crc32c(one)));
            follower.process();
            follower.receive(new InstallSnapshot(1, 2, 2, META, third, Bytes.wrap(Arrays.copyOfRange(other, third, other.length)),
                    true, crc32c(other)));
            follower.process();
        } catch (IllegalStateException refused) {
            assertThat(refused).hasMessageContaining("fails its checksum");
        }
        assertThat(storage.latestSnapshot()).isEmpty();
        assertThat(acknowledgedAsInstalled()).isFalse();
    }
}
