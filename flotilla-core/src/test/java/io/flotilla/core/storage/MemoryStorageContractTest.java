package io.flotilla.core.storage;

import io.flotilla.core.MemoryStorage;
import io.flotilla.core.Storage;

class MemoryStorageContractTest extends StorageContractTest {
    @Override
    protected Storage create() {
        return new MemoryStorage();
    }

    @Override
    protected Storage reopen(Storage storage) {
        return storage;
    }
}
