package io.flotilla.server.resp;

/** Input that is not a Redis command: answered with "-ERR Protocol error: ..." and the connection closed, as Redis does. */
final class RespProtocolException extends RuntimeException {
    RespProtocolException(String message) {
        super(message);
    }
}
