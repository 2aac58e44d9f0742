package io.flotilla.client;

import io.flotilla.client.wire.Response;

/**
 * The cluster answered and refused the request: it is malformed or over a limit
 * ({@link Response.Code#INVALID}, e.g. an empty or oversized key), or its session was forgotten
 * in the middle of retrying it ({@link Response.Code#SESSION_EXPIRED}), or a membership change does
 * not apply now (a change in progress, a member not caught up, an id removed before). Retrying it unchanged
 * would fail the same way.
 */
public final class RequestRejectedException extends FlotillaException {
    private final Response.Code code;
    private final String reason;

    RequestRejectedException(String message, Response.Code code, boolean mayHaveBeenApplied) {
        this(message, code, mayHaveBeenApplied, message);
    }

    RequestRejectedException(String message, Response.Code code, boolean mayHaveBeenApplied, String reason) {
        super(message, mayHaveBeenApplied, null);
        this.code = code;
        this.reason = reason;
    }

    /** The refusal as the cluster worded it (for a membership change, the one-line reason), without what was tried. */
    public String reason() {
        return reason;
    }

    public Response.Code code() {
        return code;
    }
}
