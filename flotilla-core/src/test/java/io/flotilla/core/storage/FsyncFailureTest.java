package io.flotilla.core.storage;

import static io.flotilla.core.storage.TestEntries.IDENTITY;
import static io.flotilla.core.storage.TestEntries.entries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.HardState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fail-stop and fsyncgate: after a failed fsync the storage refuses everything, and a restart (in the
 * same boot, so the page cache is still there) does not read back what was never reported synced.
 * The fsyncs go through {@link FileSync#hook}, which these tests use to fail them and record them.
 */
class FsyncFailureTest {
    @TempDir
    Path dir;

    private final List<Path> synced = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void removeHook() {
        FileSync.hook = FileSync.Hook.NONE;
    }

    /** Records every sync and fails those {@code failIf} picks. */
    private void hook(Predicate<Path> failIf) {
        FileSync.hook = path -> {
            synced.add(path.toAbsolutePath());
            if (failIf.test(path)) {
                throw new IOException("injected fsync failure on " + path.getFileName());
            }
        };
    }

    private DurableStorage open() {
        return DurableStorage.open(dir, IDENTITY, DurableStorage.Options.defaults());
    }

    @Test
    void entriesWrittenAfterTheLastSuccessfulSyncAreNotReadBackAfterAFailedSync() {
        try (DurableStorage s = open()) {
            s.saveHardState(new HardState(2, 1));
            s.append(entries(1, 3, 2));
            s.sync();
            s.append(entries(4, 6, 2));
            hook(path -> path.getFileName().toString().startsWith("log_inprogress_"));
            assertThatThrownBy(s::sync).isInstanceOf(StorageException.class).hasMessageContaining("injected fsync failure");
        }
        removeHook();
        try (DurableStorage s = open()) {
            assertThat(s.lastIndex()).isEqualTo(3);
            assertThat(s.entries(1, 4, Long.MAX_VALUE)).isEqualTo(entries(1, 3, 2));
        }
    }

    @Test
    void aHardStateWhoseSyncFailedIsNotReadBack() {
        try (DurableStorage s = open()) {
            s.saveHardState(new HardState(2, 1));
            s.sync();
            s.saveHardState(new HardState(3, 2));
            // The new file is written, synced and renamed into place; the directory's sync fails.
            hook(path -> path.equals(dir.toAbsolutePath()) || path.equals(dir));
            assertThatThrownBy(s::sync).isInstanceOf(StorageException.class);
        }
        removeHook();
        try (DurableStorage s = open()) {
            assertThat(s.hardState()).isEqualTo(new HardState(2, 1));
        }
    }

    @Test
    void afterAFailedSyncEveryWriteAndSyncIsRefusedAndNoFsyncIsTriedAgain() {
        try (DurableStorage s = open()) {
            s.append(entries(1, 2, 1));
            hook(path -> true);
            assertThatThrownBy(s::sync).isInstanceOf(StorageException.class);
            int syncsTried = synced.size();
            assertThatThrownBy(s::sync).isInstanceOf(StorageException.class).hasMessageContaining("unusable after an earlier I/O error");
            assertThatThrownBy(() -> s.append(entries(3, 3, 1))).isInstanceOf(StorageException.class);
            assertThatThrownBy(() -> s.saveHardState(new HardState(5, 0))).isInstanceOf(StorageException.class);
            assertThat(synced).hasSize(syncsTried);
        }
    }

    @Test
    void aSyncThatSucceedsAfterAFailedOneIsNotMistakenForDurability() {
        // The log cut back at the failure stays cut: entries acknowledged before it all survive.
        try (DurableStorage s = open()) {
            s.saveHardState(new HardState(1, 0));
            s.append(entries(1, 10, 1));
            s.sync();
            s.append(entries(11, 12, 1));
            hook(path -> path.getFileName().toString().startsWith("log_"));
            assertThatThrownBy(s::sync).isInstanceOf(StorageException.class);
        }
        removeHook();
        try (DurableStorage s = open()) {
            assertThat(s.lastIndex()).isEqualTo(10);
            s.append(entries(11, 11, 1));
            s.sync();
        }
        try (DurableStorage s = open()) {
            assertThat(s.lastIndex()).isEqualTo(11);
        }
    }

    @Test
    void creatingTheDataDirectorySyncsTheParentOfEveryDirectoryCreated() {
        Path nested = dir.resolve("a").resolve("b").resolve("node-1");
        hook(path -> false);
        DurableStorage.open(nested, IDENTITY, DurableStorage.Options.defaults()).close();
        Path root = dir.toAbsolutePath();
        assertThat(synced).contains(root, root.resolve("a"), root.resolve("a").resolve("b"));
        // The directory's own entries (meta, segment) too, before open returns.
        assertThat(synced).contains(nested.toAbsolutePath());
    }

    @Test
    void anExistingDataDirectoryHasItsParentSyncedAtEveryOpen() {
        open().close(); // an earlier run may have crashed before its parent was synced
        hook(path -> false);
        open().close();
        assertThat(synced).contains(dir.toAbsolutePath().getParent());
    }

    @Test
    void withoutFsyncNothingIsSynced() {
        hook(path -> false);
        DurableStorage.open(dir.resolve("x"), IDENTITY, DurableStorage.Options.defaults().withFsync(false)).close();
        assertThat(synced).isEmpty();
    }
}
