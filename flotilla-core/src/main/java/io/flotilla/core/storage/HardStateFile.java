package io.flotilla.core.storage;

import io.flotilla.core.HardState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The {@code hardstate} file: term and vote. Tiny and rewritten whole, atomically (temp file, fsync,
 * rename, directory fsync), so a crash leaves the old or the new value; the checksum catches bit rot.
 *
 * <p>Layout (big-endian): version int, term long, votedFor int, CRC32C int over the preceding 16 bytes.
 */
final class HardStateFile {
    static final String FILE_NAME = "hardstate";
    private static final int VERSION = 1;
    private static final int SIZE = 4 + 8 + 4 + 4;

    private HardStateFile() {
    }

    /** The saved hard state, or {@link HardState#INITIAL} if none was ever saved. */
    static HardState read(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return HardState.INITIAL;
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        if (bytes.length != SIZE || buf.getInt(0) != VERSION || buf.getInt(SIZE - 4) != checksum(bytes)) {
            throw new StorageException("damaged hard state file " + file + " (" + bytes.length + " bytes, bad version or checksum);"
                    + " the node's term and vote are lost; " + LogRecovery.ADVICE);
        }
        return new HardState(buf.getLong(4), buf.getInt(12));
    }

    static void write(Path dir, HardState state, boolean fsync) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(SIZE);
        buf.putInt(VERSION).putLong(state.term()).putInt(state.votedFor());
        buf.putInt(checksum(buf.array()));
        FileSync.writeAtomically(dir.resolve(FILE_NAME), buf.array(), fsync);
    }

    private static int checksum(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, SIZE - 4);
        return (int) crc.getValue();
    }
}
