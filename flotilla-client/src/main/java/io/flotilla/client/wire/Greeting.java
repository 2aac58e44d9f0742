package io.flotilla.client.wire;

import java.nio.ByteBuffer;

/**
 * The first frame a connection sends, answered by a {@link Hello.Reply}: a client's {@link Hello},
 * or a node's own greeting when it relays requests (flotilla-server), which then uses the same
 * connection code as a client.
 */
public interface Greeting {
    /** The highest protocol version the sender speaks. */
    int version();

    /** The frame's body. */
    ByteBuffer encode();
}
