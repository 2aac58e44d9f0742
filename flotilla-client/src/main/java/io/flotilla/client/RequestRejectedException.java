package io.flotilla.client;

import io.flotilla.client.wire.Response;

/**
 * The cluster answered and refused the request: it is malformed or over a limit
 * ({@link Response.Code#INVALID}, e.g. an empty or oversized key), or its session was forgotten
 * in the middle of retrying it ({@link Response.Code#SESSION_EXPIRED}). Retrying it unchanged
 * would fail the same way.
 */
public final class RequestRejectedException extends FlotillaException {
    private final Response.Code code;

    RequestRejectedException(String message, Response.Code code, boolean mayHaveBeenApplied) {
        super(message, mayHaveBeenApplied, null);
        this.code = code;
    }

    public Response.Code code() {
        return code;
    }
}
