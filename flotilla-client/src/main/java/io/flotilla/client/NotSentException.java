package io.flotilla.client;

import java.io.IOException;

/**
 * A request that never left this process: its connection was already closed, or too many requests
 * were in flight on it. Unlike other {@link IOException}s from {@link NodeConnection#send}, it
 * proves that the node never saw the request, so a write failed this way was certainly not applied.
 */
public class NotSentException extends IOException {
    public NotSentException(String message) {
        super(message);
    }
}
