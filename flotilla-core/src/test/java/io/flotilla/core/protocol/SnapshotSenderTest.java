package io.flotilla.core.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.ForwardingStorage;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import io.flotilla.core.MemoryStorage;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.SnapshotSink;
import io.flotilla.core.Storage;
import io.flotilla.core.EntryType;
import io.flotilla.core.message.InstallSnapshot;
import io.flotilla.core.message.Message;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** The leader side of Raft §7: every chunk holds the bytes of the snapshot its message names. */
class SnapshotSenderTest {
    private static final ClusterConfig VOTERS = ClusterConfig.of(1, 2, 3);
    private static final int CHUNK = 100;

    /**
     * A leader's storage where a newer snapshot is committed just after the sender looks up the newest,
     * as the snapshot writer's thread may do at any moment.
     */
    private static final class RacingStorage extends ForwardingStorage {
        private final Map<SnapshotMeta, byte[]> written = new HashMap<>();
        private SnapshotMeta commitAfterLookup;
        private byte[] commitData;

        RacingStorage() {
            super(new MemoryStorage());
            delegate.saveHardState(new HardState(1, 0));
            List<LogEntry> log = new ArrayList<>();
            for (long i = 1; i <= 30; i++) {
                log.add(new LogEntry(i, 1, EntryType.NORMAL, Bytes.utf8("e" + i)));
            }
            delegate.append(log);
        }

        void commit(SnapshotMeta meta, byte[] data) {
            try (SnapshotSink sink = delegate.beginSnapshot(meta)) {
                sink.out().write(data);
                sink.commit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            written.put(meta, data);
        }

        @Override
        public Optional<SnapshotMeta> latestSnapshot() {
            Optional<SnapshotMeta> newest = delegate.latestSnapshot();
            if (commitAfterLookup != null) {
                SnapshotMeta meta = commitAfterLookup;
                commitAfterLookup = null;
                commit(meta, commitData);
            }
            return newest;
        }
    }

    private static byte[] data(int size, int seed) {
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++) {
            data[i] = (byte) (i * seed + 11);
        }
        return data;
    }

    private static int crc32c(byte[] data) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        return (int) crc.getValue();
    }

    @Test
    void aSnapshotCommittedMidTransferIsNeverSentUnderTheOlderOnesLabel() {
        RacingStorage storage = new RacingStorage();
        SnapshotMeta first = new SnapshotMeta(10, 1, VOTERS);
        SnapshotMeta second = new SnapshotMeta(20, 1, VOTERS);
        storage.commit(first, data(1000, 7));
        SnapshotSender sender = new SnapshotSender(storage, CHUNK);
        Progress p = new Progress(1);

        // The first window goes out; then the newer snapshot lands between lookup and reads.
        List<Message> out = new ArrayList<>();
        sender.send(1, 3, 5, p, out);
        p.snapshotAcked = p.snapshotSent;
        storage.commitAfterLookup = second;
        storage.commitData = data(900, 13);
        for (int round = 0; round < 50 && !p.snapshotDoneSent; round++) {
            sender.send(1, 3, 5, p, out);
            p.snapshotAcked = p.snapshotSent;
        }

        // What a follower assembles under each label is exactly that snapshot, checksum included.
        Map<SnapshotMeta, ByteArrayOutputStream> received = new HashMap<>();
        for (Message m : out) {
            InstallSnapshot chunk = (InstallSnapshot) m;
            byte[] expected = storage.written.get(chunk.meta());
            assertThat(chunk.chunk().unsafeArray()).as("chunk at %d labelled %s", chunk.offset(), chunk.meta())
                    .isEqualTo(Arrays.copyOfRange(expected, (int) chunk.offset(), (int) chunk.offset() + chunk.chunk().length()));
            assertThat(chunk.checksum()).isEqualTo(crc32c(expected));
            ByteArrayOutputStream assembled = received.computeIfAbsent(chunk.meta(), k -> new ByteArrayOutputStream());
            if (chunk.offset() == 0) {
                assembled.reset();
            }
            assembled.writeBytes(chunk.chunk().unsafeArray());
        }
        InstallSnapshot last = (InstallSnapshot) out.get(out.size() - 1);
        assertThat(last.done()).isTrue();
        assertThat(last.meta()).isEqualTo(second);
        assertThat(received.get(second).toByteArray()).isEqualTo(storage.written.get(second));
    }
}
