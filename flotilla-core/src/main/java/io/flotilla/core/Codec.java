package io.flotilla.core;

/**
 * Turns an application's commands into log entry payloads and back. Decoding must reject malformed
 * input with an {@link IllegalArgumentException}, never allocate from an unchecked length.
 */
public interface Codec<T> {
    Bytes encode(T value);

    T decode(Bytes bytes);
}
