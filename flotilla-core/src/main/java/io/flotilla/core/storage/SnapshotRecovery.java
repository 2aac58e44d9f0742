package io.flotilla.core.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Finds the snapshot to start from at open: the newest committed one whose header and data pass their
 * checksums. A damaged one is skipped in favour of the one before it (the caller warns and moves it
 * aside once the log is known to connect to the older one); if every one is damaged the node cannot
 * know its state, and opening stops. Only the chosen snapshot's data is read, once, streaming.
 */
final class SnapshotRecovery {
    /** A snapshot file that failed its checks, and why. */
    record Damaged(SnapshotFiles.SnapshotFile file, String problem) {
        @Override
        public String toString() {
            return file.path() + " (" + problem + ")";
        }
    }

    /**
     * @param newest  the snapshot to start from, or null if there is none
     * @param damaged newer snapshots skipped because they failed their checks, newest first
     * @param older   committed snapshots older than {@code newest}, oldest first, not checked
     */
    record Found(StoredSnapshot newest, List<Damaged> damaged, List<SnapshotFiles.SnapshotFile> older) {
    }

    private SnapshotRecovery() {
    }

    static Found find(Path dir) throws IOException {
        List<SnapshotFiles.SnapshotFile> files = SnapshotFiles.list(dir);
        List<Damaged> damaged = new ArrayList<>();
        for (int k = files.size() - 1; k >= 0; k--) {
            SnapshotFiles.SnapshotFile file = files.get(k);
            try {
                return new Found(new StoredSnapshot(file.path(), verify(file)), damaged, List.copyOf(files.subList(0, k)));
            } catch (SnapshotFormat.DamagedSnapshotException e) {
                damaged.add(new Damaged(file, e.getMessage()));
            }
        }
        if (!damaged.isEmpty()) {
            throw new StorageException("every snapshot in " + dir + " is damaged: "
                    + damaged.stream().map(Damaged::toString).collect(Collectors.joining(", "))
                    + "; the node's state before its log cannot be rebuilt. If the log still starts at index 1, move the damaged"
                    + " files out of the directory to start from the log alone; otherwise " + LogRecovery.ADVICE);
        }
        return new Found(null, List.of(), List.of());
    }

    /** Checks a snapshot file's header, that it matches the file's name, and its data's checksum. */
    static SnapshotFormat.Header verify(SnapshotFiles.SnapshotFile file) throws IOException, SnapshotFormat.DamagedSnapshotException {
        try (FileChannel ch = FileChannel.open(file.path(), StandardOpenOption.READ)) {
            SnapshotFormat.Header header = SnapshotFormat.readHeader(ch, ch.size());
            if (header.meta().index() != file.index() || header.meta().term() != file.term()) {
                throw new SnapshotFormat.DamagedSnapshotException("its header says index " + header.meta().index() + " term "
                        + header.meta().term() + ", its name index " + file.index() + " term " + file.term());
            }
            SnapshotFormat.verifyData(ch, header);
            return header;
        }
    }
}
