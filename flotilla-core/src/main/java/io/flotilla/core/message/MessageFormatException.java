package io.flotilla.core.message;

/**
 * Bytes that are not a valid encoding of a {@link Message}. Thrown by {@link MessageCodec#decode}
 * for anything a peer (or a corrupted connection) could send, so that a transport needs to catch
 * this one exception to drop a bad frame, and any other exception remains a bug of ours.
 */
public final class MessageFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MessageFormatException(String message) {
        super(message);
    }

    public MessageFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
