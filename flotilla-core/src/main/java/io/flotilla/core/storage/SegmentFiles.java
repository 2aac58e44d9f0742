package io.flotilla.core.storage;

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
 * Segment file names, in the style of Apache Ratis: {@code log_<first>-<last>} for a closed segment,
 * {@code log_inprogress_<first>} for the one being appended to. The names alone tell recovery the
 * order of the files and whether one is missing.
 */
final class SegmentFiles {
    private static final Pattern CLOSED = Pattern.compile("log_(\\d{1,18})-(\\d{1,18})");
    private static final Pattern OPEN = Pattern.compile("log_inprogress_(\\d{1,18})");

    /** A segment file found in the directory; {@code lastIndex} is only known for a closed one. */
    record SegmentFile(Path path, long firstIndex, long lastIndex, boolean open) {
    }

    private SegmentFiles() {
    }

    static String openName(long firstIndex) {
        return "log_inprogress_" + firstIndex;
    }

    static String closedName(long firstIndex, long lastIndex) {
        return "log_" + firstIndex + "-" + lastIndex;
    }

    /** The directory's segment files by first index; on a tie an (empty, left-over) open one comes first. */
    static List<SegmentFile> list(Path dir) throws IOException {
        List<SegmentFile> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "log_*")) {
            for (Path p : stream) {
                String name = p.getFileName().toString();
                Matcher closed = CLOSED.matcher(name);
                Matcher open = OPEN.matcher(name);
                if (closed.matches()) {
                    long first = Long.parseLong(closed.group(1));
                    long last = Long.parseLong(closed.group(2));
                    if (first < 1 || last < first) {
                        throw new StorageException("segment file " + p + " has an impossible index range; "
                                + "move it out of the data directory if it is not Flotilla's");
                    }
                    files.add(new SegmentFile(p, first, last, false));
                } else if (open.matches()) {
                    files.add(new SegmentFile(p, Long.parseLong(open.group(1)), -1, true));
                }
            }
        }
        files.sort(Comparator.comparingLong(SegmentFile::firstIndex).thenComparing(f -> !f.open()));
        return files;
    }
}
