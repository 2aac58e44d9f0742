package io.flotilla.core.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The fsync discipline: a file's new name only survives a crash once its directory is synced. Every
 * fsync of the storage goes through here, so tests can watch or fail them ({@link #hook}).
 */
final class FileSync {
    static final String TEMP_SUFFIX = ".tmp";

    /** Sees every fsync (of a file or a directory) just before it happens, and may fail it. */
    interface Hook {
        Hook NONE = path -> { };

        void beforeSync(Path path) throws IOException;
    }

    /** For tests only: failure injection and recording of what was synced. */
    static volatile Hook hook = Hook.NONE;

    private FileSync() {
    }

    /** Flushes {@code path}'s open channel to the disk: data only, or with its metadata. */
    static void force(FileChannel ch, Path path, boolean metadata) throws IOException {
        hook.beforeSync(path);
        ch.force(metadata);
    }

    /**
     * Creates {@code dir} and any missing parents, and makes them durable: syncs the parent of every
     * directory created, and {@code dir}'s parent even if it existed (an earlier run may have crashed
     * before syncing it). Without this a crash right after the first start could lose the whole
     * directory, term and vote included, though every file in it was synced.
     */
    static void createDirectories(Path dir, boolean fsync) throws IOException {
        Path target = dir.toAbsolutePath();
        Deque<Path> created = new ArrayDeque<>();
        for (Path p = target; p != null && !Files.isDirectory(p); p = p.getParent()) {
            created.push(p);
        }
        Files.createDirectories(target);
        if (!fsync) {
            return;
        }
        if (created.isEmpty() && target.getParent() != null) {
            created.push(target);
        }
        for (Path p : created) {
            if (p.getParent() != null) {
                syncDirectory(p.getParent());
            }
        }
    }

    /**
     * Replaces {@code target} so that a crash leaves either the old or the new content, never a mix:
     * write a temporary file, sync it, rename it over the target, sync the directory.
     */
    static void writeAtomically(Path target, byte[] content, boolean fsync) throws IOException {
        Path temp = target.resolveSibling(target.getFileName() + TEMP_SUFFIX);
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(content), 0);
            if (fsync) {
                force(ch, temp, true);
            }
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        if (fsync) {
            syncDirectory(target.getParent());
        }
    }

    /** Makes creations, renames and deletions of the directory's entries durable. */
    static void syncDirectory(Path dir) throws IOException {
        hook.beforeSync(dir);
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    static void writeFully(FileChannel ch, ByteBuffer src, long position) throws IOException {
        long at = position;
        while (src.hasRemaining()) {
            at += ch.write(src, at);
        }
    }

    /** Fills {@code dst} from {@code position}; false if the file ends first. */
    static boolean readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        long at = position;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, at);
            if (n < 0) {
                return false;
            }
            at += n;
        }
        return true;
    }
}
