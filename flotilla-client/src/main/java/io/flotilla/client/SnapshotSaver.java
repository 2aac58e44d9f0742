package io.flotilla.client;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.SnapshotInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Saves a backup ({@link FlotillaClient#saveSnapshot}): asks the leader for a consistent snapshot,
 * reads its data chunk by chunk from the node that holds it into {@code FILE.tmp} after a
 * {@link BackupFile} header, checks the CRC32C of what arrived against the leader's, syncs, reads the
 * file back through {@link BackupFile#verify} and only then renames it to {@code FILE}. An existing
 * {@code FILE} is replaced only by a complete, verified backup.
 *
 * <p>If the snapshot's stream is lost midway (its node stopped, or closed it after a minute without a
 * read) or the data arrived damaged, it starts over with a new snapshot, up to {@link #ATTEMPTS} times.
 */
final class SnapshotSaver {
    static final int ATTEMPTS = 3;
    /** Data per read: well within the default 4 MiB frame; the node may answer less (its own frame limit). */
    static final int CHUNK_BYTES = 1 << 20;
    /** What a SnapshotData answer carries besides its data: id, code, form, offset, length. */
    private static final int ANSWER_OVERHEAD = 64;

    private final FlotillaClient client;

    SnapshotSaver(FlotillaClient client) {
        this.client = client;
    }

    BackupFile.Saved save(Path file) throws IOException {
        Path target = file.toAbsolutePath().normalize();
        checkTarget(target);
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        int chunk = Math.max(1, Math.min(CHUNK_BYTES, client.options().maxFrameBytes() - ANSWER_OVERHEAD));
        for (int attempt = 1; ; attempt++) {
            SnapshotInfo info = client.beginSnapshot();
            BackupFile.Header header = new BackupFile.Header(System.currentTimeMillis(), info.nodeId(), info.clusterId(), info.index(),
                    info.term(), info.config(), info.dataLength(), info.dataCrc());
            try {
                download(info, header, temp, chunk);
                BackupFile.Header written = BackupFile.verify(temp);
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                syncDirectory(target.getParent());
                return new BackupFile.Saved(target, written, written.bytes() + written.dataLength());
            } catch (StreamLost e) {
                Files.deleteIfExists(temp);
                if (attempt == ATTEMPTS) {
                    throw new ClusterUnavailableException("snapshot save failed: " + e.getMessage() + " (" + ATTEMPTS
                            + " snapshots tried); nothing was written to " + target, false, e.getCause());
                }
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(temp);
                throw e;
            }
        }
    }

    /** Lost the snapshot midway, or it arrived damaged: worth a new snapshot. */
    private static final class StreamLost extends Exception {
        private static final long serialVersionUID = 1L;

        StreamLost(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private void download(SnapshotInfo info, BackupFile.Header header, Path temp, int chunk) throws IOException, StreamLost {
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            writeFully(out, BackupFile.encodeHeader(header));
            CRC32C crc = new CRC32C();
            long offset = 0;
            while (offset < info.dataLength()) {
                Response.SnapshotData data;
                try {
                    data = client.readSnapshot(new Request.SnapshotRead(info.nodeId(), info.streamId(), offset,
                            (int) Math.min(chunk, info.dataLength() - offset)));
                } catch (FlotillaException e) {
                    throw new StreamLost("lost the snapshot of node " + info.nodeId() + " at byte " + offset + " of "
                            + info.dataLength() + ": " + e.getMessage(), e);
                }
                int n = data.data().length();
                if (data.offset() != offset || n == 0 || n > info.dataLength() - offset) {
                    throw new StreamLost("node " + info.nodeId() + " answered " + n + " bytes at offset " + data.offset()
                            + " to a read at " + offset + " of " + info.dataLength(), null);
                }
                ByteBuffer bytes = ByteBuffer.wrap(data.data().unsafeArray());
                crc.update(bytes.duplicate());
                writeFully(out, bytes);
                offset += n;
            }
            if ((int) crc.getValue() != info.dataCrc()) {
                throw new StreamLost("the snapshot arrived damaged: its checksum is " + BackupFile.describeCrc((int) crc.getValue())
                        + ", node " + info.nodeId() + " announced " + BackupFile.describeCrc(info.dataCrc()), null);
            }
            out.force(true);
        }
    }

    /** Refuses a FILE that cannot be written before anything is asked of the cluster. */
    static void checkTarget(Path target) throws IOException {
        if (Files.isDirectory(target)) {
            throw new IOException(target + " is a directory; give the backup file's name");
        }
        Path dir = target.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IOException("directory " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new IOException("cannot write in " + dir + ": permission denied");
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            out.write(src);
        }
    }

    /** A renamed file's name is durable only once its directory is synced. */
    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("win")) {
                throw e;
            }
        }
    }
}
