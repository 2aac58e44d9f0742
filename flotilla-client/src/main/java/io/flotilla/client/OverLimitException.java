package io.flotilla.client;

/**
 * A request over a limit the node announced in its hello reply: refused before sending it, so
 * certainly not applied, and sending it again would fail the same way.
 */
final class OverLimitException extends NotSentException {
    OverLimitException(String message) {
        super(message);
    }
}
