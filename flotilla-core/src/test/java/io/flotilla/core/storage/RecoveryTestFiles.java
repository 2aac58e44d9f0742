package io.flotilla.core.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/** Ways tests damage or inspect a data directory. */
final class RecoveryTestFiles {
    private RecoveryTestFiles() {
    }

    static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x5a)).rewind();
            ch.write(b, offset);
        }
    }

    static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    /** File names in {@code dir} starting with {@code prefix}, sorted by the first number in them. */
    static List<String> names(Path dir, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix))
                    .sorted((a, b) -> Long.compare(firstNumber(a), firstNumber(b))).toList();
        }
    }

    /** The first and last index of a closed segment named {@code log_<first>-<last>}. */
    static long[] range(String segmentName) {
        String[] parts = segmentName.split("[_-]");
        return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
    }

    static long directorySize(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).sum();
        }
    }

    private static long firstNumber(String name) {
        String digits = name.replaceAll("^\\D*(\\d+).*$", "$1");
        return digits.isEmpty() || !Character.isDigit(digits.charAt(0)) ? -1 : Long.parseLong(digits);
    }
}
