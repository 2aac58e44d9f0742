package io.flotilla.client.wire;

/**
 * The first frame on every connection, from the side that connected. A node closes a connection
 * whose first frame is not a valid Hello for its cluster.
 *
 * @param role      who is connecting
 * @param nodeId    a peer's own id; 0 for a client
 * @param clusterId the cluster the sender belongs to; a client may leave it empty to accept any
 */
public record Hello(Role role, int nodeId, String clusterId) {
    /** CLIENT: an application; PEER: a node's Raft messages; FORWARD: a node relaying its clients' requests to the leader. */
    public enum Role {
        CLIENT(1), PEER(2), FORWARD(3);

        private final int wire;

        Role(int wire) {
            this.wire = wire;
        }

        public int wire() {
            return wire;
        }
    }

    /** The answer: {@code accepted}, or refused with a one-line reason. {@code nodeId} is the answering node's. */
    public record Reply(boolean accepted, int nodeId, String clusterId, String message) {
    }
}
