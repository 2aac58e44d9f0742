package io.flotilla.core;

import io.flotilla.core.message.Message;
import java.util.function.Consumer;

/**
 * Carries Raft messages between nodes. Raft tolerates lost, late and duplicated messages, so a
 * transport may drop a message rather than block or buffer without bound.
 */
public interface Transport extends AutoCloseable {
    /** Starts delivering the messages addressed to this node to {@code inbound}, from any thread. */
    void start(Consumer<Message> inbound);

    /** Sends a message to {@code message.to()} without blocking; may drop it. */
    void send(Message message);

    @Override
    void close();
}
