package io.flotilla.core;

import io.flotilla.core.message.Message;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Nodes in one process talking through memory: for tests, examples and embedders who run a whole
 * cluster in one JVM. Messages are handed straight to the receiver's inbound handler; a node cut
 * off with {@link #isolate(int)} neither sends nor receives until {@link #heal(int)}.
 */
public final class LocalNetwork {
    private final Map<Integer, Consumer<Message>> inbound = new ConcurrentHashMap<>();
    private final Set<Integer> isolated = ConcurrentHashMap.newKeySet();

    /** The transport of node {@code id}. */
    public Transport transport(int id) {
        return new Transport() {
            @Override
            public void start(Consumer<Message> handler) {
                inbound.put(id, handler);
            }

            @Override
            public void send(Message message) {
                Consumer<Message> target = inbound.get(message.to());
                if (target != null && !isolated.contains(id) && !isolated.contains(message.to())) {
                    target.accept(message);
                }
            }

            @Override
            public void close() {
                inbound.remove(id);
            }
        };
    }

    public void isolate(int id) {
        isolated.add(id);
    }

    public void heal(int id) {
        isolated.remove(id);
    }
}
