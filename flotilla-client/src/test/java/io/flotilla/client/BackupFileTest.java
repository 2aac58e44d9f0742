package io.flotilla.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.Bytes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backup file format: what verifies, and how every kind of damage is refused in one line. */
class BackupFileTest {
    @TempDir
    Path dir;

    private final byte[] data = new byte[300_000];

    {
        new SplittableRandom(1).nextBytes(data);
    }

    private BackupFile.Header header() {
        CRC32C crc = new CRC32C();
        crc.update(data);
        return new BackupFile.Header(1_700_000_000_000L, 2, "prod", 12_345, 7, Bytes.utf8("the configuration"), data.length,
                (int) crc.getValue());
    }

    private Path write(BackupFile.Header header, byte[] body) throws IOException {
        Path file = dir.resolve("backup.flot");
        ByteBuffer h = BackupFile.encodeHeader(header);
        byte[] all = new byte[h.remaining() + body.length];
        h.get(all, 0, h.remaining());
        System.arraycopy(body, 0, all, header.bytes(), body.length);
        Files.write(file, all);
        return file;
    }

    private static void change(Path file, long at, int xor) throws IOException {
        byte[] all = Files.readAllBytes(file);
        all[(int) at] ^= (byte) xor;
        Files.write(file, all);
    }

    @Test
    void anIntactBackupVerifiesAndItsDataReadsBackExactly() throws IOException {
        Path file = write(header(), data);
        BackupFile.Header read = BackupFile.verify(file);
        assertThat(read).isEqualTo(header());
        assertThat(BackupFile.readHeader(file)).isEqualTo(header());
        assertThat(Files.size(file)).isEqualTo(read.bytes() + data.length);
        try (InputStream in = BackupFile.openData(file, read)) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
        assertThat(read.checksum()).matches("crc32c:[0-9a-f]{8}");
    }

    @Test
    void aFlippedDataByteIsRefusedByTheChecksum() throws IOException {
        Path file = write(header(), data);
        change(file, header().bytes() + 150_000, 0x10);
        assertThatThrownBy(() -> BackupFile.verify(file)).isInstanceOf(BackupFile.InvalidBackupException.class)
                .hasMessageStartingWith("backup " + file + " is damaged: its data's checksum is crc32c:")
                .hasMessageContaining("its header says " + header().checksum());
    }

    @Test
    void aTruncatedBackupIsRefusedAsTruncated() throws IOException {
        Path file = write(header(), Arrays.copyOf(data, data.length - 1000));
        assertThatThrownBy(() -> BackupFile.verify(file)).isInstanceOf(BackupFile.InvalidBackupException.class)
                .hasMessage("backup " + file + " is truncated: its header says " + data.length + " bytes of data, the file holds "
                        + (data.length - 1000));
        Path cut = dir.resolve("cut");
        Files.write(cut, Arrays.copyOf(Files.readAllBytes(file), 30)); // inside the header
        assertThatThrownBy(() -> BackupFile.verify(cut)).hasMessageContaining("is truncated: 30 bytes, shorter than its");
    }

    @Test
    void extraBytesAfterTheDataAreRefused() throws IOException {
        byte[] longer = Arrays.copyOf(data, data.length + 1);
        Path file = write(header(), longer);
        assertThatThrownBy(() -> BackupFile.verify(file)).hasMessageContaining("is damaged: its header says " + data.length
                + " bytes of data, the file holds " + (data.length + 1));
    }

    @Test
    void aDamagedHeaderIsRefusedByItsOwnChecksum() throws IOException {
        Path file = write(header(), data);
        change(file, 40, 0x01); // inside the index or term
        assertThatThrownBy(() -> BackupFile.verify(file)).isInstanceOf(BackupFile.InvalidBackupException.class)
                .hasMessage("backup " + file + " is damaged: its header checksum does not match");
    }

    @Test
    void otherFilesAndHostileLengthsAreRefusedWithoutBelievingThem() throws IOException {
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "these are not the bytes you are looking for");
        assertThatThrownBy(() -> BackupFile.verify(text)).hasMessage("backup " + text
                + " is not a Flotilla backup (it does not start with FLOTBKUP)");
        Path empty = dir.resolve("empty");
        Files.write(empty, new byte[0]);
        assertThatThrownBy(() -> BackupFile.verify(empty)).hasMessageContaining("is not a Flotilla backup: 0 bytes");

        Path file = write(header(), data);
        byte[] all = Files.readAllBytes(file);
        ByteBuffer.wrap(all).putInt(12, Integer.MAX_VALUE); // the header's length
        Files.write(file, all);
        assertThatThrownBy(() -> BackupFile.verify(file)).hasMessageContaining("is damaged: its header claims 2147483647 bytes");
        ByteBuffer.wrap(all).putInt(8, 9); // the format version
        Files.write(file, all);
        assertThatThrownBy(() -> BackupFile.verify(file)).hasMessageContaining("is of backup format version 9; this build reads version 1");
    }
}
