package io.flotilla.server.net;

import io.flotilla.client.wire.Greeting;
import io.flotilla.client.wire.ProtocolException;
import io.flotilla.client.wire.WireCodec;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A hello as a node reads it, of any role: a client's ({@link io.flotilla.client.wire.Hello} sends
 * those), a peer's (Raft messages follow) or a relay's (a node forwarding its clients' requests).
 * The layout is the same for every role and version (docs/protocol.md, Handshake).
 *
 * @param nodeId the sender's node id for a peer or a relay; 0 for a client
 */
public record NodeHello(int version, Role role, int nodeId, String clusterId) implements Greeting {
    /** Who is connecting; the numbers are the role byte on the wire. */
    public enum Role {
        CLIENT, PEER, FORWARD;

        public int wire() {
            return ordinal() + 1;
        }
    }

    /**
     * A peer's hello. Version 1, which every node accepts, so that nodes of different versions still
     * talk during a rolling upgrade (peers need no limits).
     */
    public static NodeHello peer(int nodeId, String clusterId) {
        return new NodeHello(1, Role.PEER, nodeId, clusterId);
    }

    /** A relay's hello: never refused for capacity, and authenticated as this node under TLS. */
    public static NodeHello forward(int version, int nodeId, String clusterId) {
        return new NodeHello(version, Role.FORWARD, nodeId, clusterId);
    }

    @Override
    public ByteBuffer encode() {
        byte[] cluster = clusterId.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(12 + cluster.length).putInt(WireCodec.MAGIC).put((byte) version).put((byte) role.wire())
                .putInt(nodeId).putShort((short) cluster.length).put(cluster).flip();
    }

    /** A hello of any version from 1 up; the node answers in the lower of it and {@link WireCodec#VERSION}. */
    public static NodeHello decode(ByteBuffer in) {
        try {
            int magic = in.getInt();
            if (magic != WireCodec.MAGIC) {
                throw new ProtocolException(String.format("not a Flotilla connection (magic 0x%08x)", magic));
            }
            int version = Byte.toUnsignedInt(in.get());
            int role = in.get();
            int nodeId = in.getInt();
            byte[] cluster = new byte[Short.toUnsignedInt(in.getShort())];
            in.get(cluster);
            if (in.hasRemaining()) {
                throw new ProtocolException(in.remaining() + " unexpected bytes after the hello");
            }
            if (version < 1) {
                throw new ProtocolException("protocol version " + version + " does not exist");
            }
            if (role < 1 || role > Role.values().length) {
                throw new ProtocolException("unknown role " + role + " in hello");
            }
            return new NodeHello(version, Role.values()[role - 1], nodeId, new String(cluster, StandardCharsets.UTF_8));
        } catch (BufferUnderflowException e) {
            throw new ProtocolException("truncated hello");
        }
    }
}
