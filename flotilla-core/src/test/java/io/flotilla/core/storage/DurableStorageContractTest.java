package io.flotilla.core.storage;

import io.flotilla.core.Storage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** The contract on real files, with segments small enough that the tests cross several of them. */
class DurableStorageContractTest extends StorageContractTest {
    static final DurableStorage.Options SMALL_SEGMENTS = DurableStorage.Options.defaults().withSegmentBytes(1024).withFsync(false);

    @TempDir
    Path dir;
    private final List<DurableStorage> opened = new ArrayList<>();

    @Override
    protected Storage create() {
        return open();
    }

    @Override
    protected Storage reopen(Storage storage) {
        DurableStorage s = (DurableStorage) storage;
        s.sync();
        s.close();
        return open();
    }

    private DurableStorage open() {
        DurableStorage s = DurableStorage.open(dir, TestEntries.IDENTITY, SMALL_SEGMENTS);
        opened.add(s);
        return s;
    }

    @AfterEach
    void closeAll() {
        opened.forEach(DurableStorage::close);
    }
}
