package io.flotilla.core.storage;

import java.nio.file.Path;

/** Child-process main: opens a data directory, says so, and holds it until killed. */
public final class HoldOpen {
    private HoldOpen() {
    }

    public static void main(String[] args) throws InterruptedException {
        DurableStorage storage = DurableStorage.open(Path.of(args[0]), TestEntries.IDENTITY, DurableStorage.Options.defaults());
        System.out.println("OPEN " + storage.lastIndex());
        System.out.flush();
        Thread.sleep(120_000); // The parent kills it long before; the sleep only bounds a forgotten child.
    }
}
