package io.flotilla.core.storage;

import io.flotilla.core.SnapshotMeta;
import java.nio.file.Path;

/** A committed snapshot file whose header has been read and checked. */
record StoredSnapshot(Path path, SnapshotFormat.Header header) {
    SnapshotMeta meta() {
        return header.meta();
    }

    long dataLength() {
        return header.dataLength();
    }

    /** Where the data starts in the file. */
    long dataStart() {
        return header.bytes();
    }
}
