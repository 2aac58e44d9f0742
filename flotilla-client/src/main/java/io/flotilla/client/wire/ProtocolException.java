package io.flotilla.client.wire;

/** Bytes that do not follow the wire protocol; the connection that sent them is closed. */
public final class ProtocolException extends RuntimeException {
    public ProtocolException(String message) {
        super(message, null, false, false);
    }
}
