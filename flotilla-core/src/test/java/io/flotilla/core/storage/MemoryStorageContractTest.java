package io.flotilla.core.storage;

import io.flotilla.core.MemoryStorage;
import io.flotilla.core.Storage;

class MemoryStorageContractTest extends StorageContractTest {
    @Override
    Storage create() {
        return new MemoryStorage();
    }

    @Override
    Storage reopen(Storage storage) {
        return storage;
    }
}
