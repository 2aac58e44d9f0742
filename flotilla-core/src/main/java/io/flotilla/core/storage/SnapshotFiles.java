package io.flotilla.core.storage;

import io.flotilla.core.SnapshotMeta;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Snapshot file names in the data directory, next to the log segments:
 *
 * <ul>
 *   <li>{@code snapshot_<index>_<term>}: a committed snapshot ({@link SnapshotFormat});
 *   <li>{@code snapshot_<index>_<term>.<random>.tmp}: one being written; never read, removed at open;
 *   <li>{@code snapshot_<index>_<term>.corrupt}: one that failed its checksum at open, kept for an
 *       operator to look at and otherwise ignored.
 * </ul>
 *
 * As with segments, the name alone orders the files, so recovery reads only the one it needs.
 */
final class SnapshotFiles {
    static final String TEMP_SUFFIX = ".tmp";
    static final String CORRUPT_SUFFIX = ".corrupt";
    private static final String PREFIX = "snapshot_";
    private static final Pattern COMMITTED = Pattern.compile("snapshot_(\\d{1,18})_(\\d{1,18})");

    /** A committed snapshot file, named by the index and term it covers. */
    record SnapshotFile(Path path, long index, long term) {
    }

    private SnapshotFiles() {
    }

    static String name(long index, long term) {
        return PREFIX + index + "_" + term;
    }

    /** A new, unique temporary file for writing the snapshot {@code meta}. */
    static Path createTemp(Path dir, SnapshotMeta meta) throws IOException {
        return Files.createTempFile(dir, name(meta.index(), meta.term()) + ".", TEMP_SUFFIX);
    }

    /** Committed snapshot files, oldest first. */
    static List<SnapshotFile> list(Path dir) throws IOException {
        List<SnapshotFile> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, PREFIX + "*")) {
            for (Path p : stream) {
                Matcher m = COMMITTED.matcher(p.getFileName().toString());
                if (m.matches()) {
                    long index = Long.parseLong(m.group(1));
                    long term = Long.parseLong(m.group(2));
                    if (index < 1 || term < 1) {
                        throw new StorageException("snapshot file " + p + " names an impossible index or term; "
                                + "move it out of the data directory if it is not Flotilla's");
                    }
                    files.add(new SnapshotFile(p, index, term));
                }
            }
        }
        files.sort(Comparator.comparingLong(SnapshotFile::index).thenComparingLong(SnapshotFile::term));
        return files;
    }

    /** Removes snapshots that were being written when the process stopped; returns how many. */
    static int deleteTemps(Path dir) throws IOException {
        int deleted = 0;
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, PREFIX + "*" + TEMP_SUFFIX)) {
            for (Path p : stream) {
                Files.deleteIfExists(p);
                deleted++;
            }
        }
        return deleted;
    }

    static boolean any(Path dir) throws IOException {
        return !list(dir).isEmpty();
    }
}
