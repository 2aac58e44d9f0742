package io.flotilla.core.storage;

/**
 * Durable storage cannot go on: the data directory belongs to another node or process, its files
 * are damaged, or the disk failed. The message names the file and says what an operator can do.
 */
public class StorageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
