package io.flotilla.server;

import io.flotilla.client.BackupFile;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.storage.DurableStorage;
import io.flotilla.core.storage.Identity;
import io.flotilla.server.kv.KvStateMachine;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code bin/flotilla-server --restore FILE}: seeds a founder's empty data directory from a backup
 * before the node starts. The node then holds the backup's snapshot (index, term and data) under the
 * founders' configuration from {@code --peers} and its own cluster id, with an empty log after it, as
 * if it had installed that snapshot from a leader; it starts as a member of the new cluster and elects
 * a leader with the other founders, which must be restored from the same file.
 *
 * <p>Refused, with one line and nothing written: a data directory that holds anything (a node already
 * restored restarts without {@code --restore}), a file that is not a complete, intact backup.
 */
final class Restore {
    private static final Logger log = LoggerFactory.getLogger(Restore.class);

    private Restore() {
    }

    /** Seeds {@code config.dataDir()} from {@code config.admin().restore()}; the founders' configuration is {@code founders}. */
    static void seed(ServerConfig config, ClusterConfig founders) throws IOException {
        Path file = config.admin().restore().toAbsolutePath().normalize();
        Path dir = config.dataDir();
        if (config.join() != null) {
            throw new IOException("--restore seeds a founder of a new cluster; a node started with --join copies the data from the"
                    + " cluster's leader instead");
        }
        long entries = entries(dir);
        if (entries > 0) {
            throw new IOException("--restore " + file + " refused: data directory " + dir + " already holds data (" + entries
                    + (entries == 1 ? " file" : " files") + "); a backup seeds only an empty data directory. A node restored"
                    + " earlier restarts without --restore");
        }
        BackupFile.Header backup;
        try {
            backup = BackupFile.verify(file);
        } catch (BackupFile.InvalidBackupException e) {
            throw new IOException("--restore refused: " + e.getMessage());
        }
        long keys;
        try (InputStream data = BackupFile.openData(file, backup)) {
            keys = KvStateMachine.keyCount(data);
        } catch (IOException e) {
            throw new IOException("--restore refused: backup " + file + " holds no key-value snapshot this build reads: " + e.getMessage());
        }
        SnapshotMeta meta = new SnapshotMeta(backup.index(), backup.term(), founders);
        try (InputStream data = new Checked(BackupFile.openData(file, backup), backup, file)) {
            DurableStorage.createFromSnapshot(dir, new Identity(config.clusterId(), config.nodeId()),
                    DurableStorage.Options.defaults().withFsync(config.fsync()), meta, data);
        }
        log.info("node {} restored backup {}: index {}, term {}, {} keys, {} bytes ({}), saved from cluster '{}' by node {};"
                        + " it founds cluster '{}' with voters {} in {}", config.nodeId(), file, backup.index(), backup.term(), keys,
                backup.dataLength(), backup.checksum(), backup.clusterId(), backup.nodeId(), config.clusterId(), founders.voters(), dir);
    }

    /** Files and directories in {@code dir}; 0 if it does not exist. */
    private static long entries(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException("data directory " + dir + " is not a directory");
        }
        try (var list = Files.list(dir)) {
            return list.count();
        }
    }

    /**
     * The backup's data, checked again as it is copied: at its end, its length and CRC32C must be the
     * header's, or reading fails and the snapshot is never committed (the file changed since it was verified).
     */
    private static final class Checked extends CheckedInputStream {
        private final BackupFile.Header header;
        private final Path file;
        private long read;

        Checked(InputStream in, BackupFile.Header header, Path file) {
            super(in, new CRC32C());
            this.header = header;
            this.file = file;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) == 1 ? one[0] & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                read += n;
            } else if (n < 0 && (read != header.dataLength() || (int) getChecksum().getValue() != header.dataCrc())) {
                throw new IOException("backup " + file + " changed while it was restored: " + read + " bytes with checksum "
                        + BackupFile.describeCrc((int) getChecksum().getValue()) + ", its header says " + header.dataLength()
                        + " bytes with " + header.checksum());
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            throw new IOException("the backup's data is read whole");
        }
    }
}
