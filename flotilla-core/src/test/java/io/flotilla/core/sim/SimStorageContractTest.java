package io.flotilla.core.sim;

import io.flotilla.core.Storage;
import io.flotilla.core.storage.StorageContractTest;
import java.util.SplittableRandom;

/**
 * The simulated disk keeps the same contract as the real ones; reopening it is a sync and then a
 * clean power cut, after which it must look as {@code DurableStorage} does when reopened.
 */
class SimStorageContractTest extends StorageContractTest {
    @Override
    protected Storage create() {
        return new SimStorage();
    }

    @Override
    protected Storage reopen(Storage storage) {
        SimStorage s = (SimStorage) storage;
        s.sync();
        s.crash(new SplittableRandom(1), false);
        return s;
    }
}
