package io.flotilla.server.resp;

import io.flotilla.client.HostPort;
import io.flotilla.client.wire.NodeStatus;
import io.flotilla.core.Bytes;
import io.flotilla.server.net.NodeServer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * What the Redis port needs of its node: the request handler the native port uses (so limits,
 * forwarding and metrics are the same), the node's status, and where the leader's Redis port is.
 *
 * @param addressOf  a member's native address
 * @param portOffset this node's Redis port minus its native port; every member's Redis port is taken
 *                   to be at the same offset (what {@code bin/flotilla-cluster --resp} does), which is
 *                   where a redirection sends the client
 * @param redirect   a follower answers writes and linearizable reads with -MOVED to the leader instead
 *                   of relaying them ({@code --resp-redirect})
 * @param deadline   how long the node keeps retrying a command whose answer was "no leader yet" or
 *                   "outcome unknown" before it gives the client that answer
 */
public record RespNode(NodeServer.RequestHandler requests, Supplier<NodeStatus> status, IntFunction<Optional<InetSocketAddress>> addressOf,
                int portOffset, boolean redirect, Duration deadline) {
    /** The Redis version Flotilla answers HELLO and INFO with: the command set it follows. */
    static final String REDIS_VERSION = "7.0.0";

    /** With {@link #redirect}, on a follower: the -MOVED (or -TRYAGAIN, no leader known) for a command on {@code key}. */
    Optional<RespReply> redirection(Bytes key) {
        if (!redirect) {
            return Optional.empty();
        }
        NodeStatus s = status.get();
        if ("LEADER".equals(s.role())) {
            return Optional.empty();
        }
        Optional<InetSocketAddress> leader = s.leaderId() == 0 ? Optional.empty() : addressOf.apply(s.leaderId());
        if (leader.isEmpty()) {
            return Optional.of(new RespReply.Error("TRYAGAIN", "no leader is known (an election may be running); retry shortly"));
        }
        InetSocketAddress at = new InetSocketAddress(leader.get().getHostString(), leader.get().getPort() + portOffset);
        return Optional.of(new RespReply.Error("MOVED", slot(key) + " " + HostPort.format(at)));
    }

    /** The key's Redis Cluster hash slot (CRC16/XMODEM of the key, or of its {hash tag}, mod 16384), which -MOVED names. */
    static int slot(Bytes key) {
        byte[] k = key.unsafeArray();
        int from = 0;
        int to = k.length;
        int open = indexOf(k, (byte) '{', 0);
        if (open >= 0) {
            int close = indexOf(k, (byte) '}', open + 1);
            if (close > open + 1) {
                from = open + 1;
                to = close;
            }
        }
        int crc = 0;
        for (int i = from; i < to; i++) {
            crc ^= (k[i] & 0xff) << 8;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
        }
        return (crc & 0xffff) % 16384;
    }

    private static int indexOf(byte[] b, byte c, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }

    /** INFO's text: sections server, replication, keyspace (or one of them); Redis's field names where they exist. */
    String info(String section) {
        NodeStatus s = status.get();
        boolean all = section.equals("default") || section.equals("all") || section.equals("everything");
        StringBuilder b = new StringBuilder();
        if (all || section.equals("server")) {
            b.append("# Server\r\n")
                    .append("redis_version:").append(REDIS_VERSION).append("\r\n")
                    .append("flotilla_version:").append(s.details().version()).append("\r\n")
                    .append("redis_mode:standalone\r\n")
                    .append("uptime_in_seconds:").append(s.details().uptimeMillis() / 1000).append("\r\n")
                    .append("\r\n");
        }
        if (all || section.equals("replication")) {
            boolean leads = "LEADER".equals(s.role());
            b.append("# Replication\r\n").append("role:").append(leads ? "master" : "slave").append("\r\n");
            if (leads) {
                b.append("connected_slaves:").append(Math.max(0, s.members().size() - 1)).append("\r\n");
            } else {
                Optional<InetSocketAddress> leader = s.leaderId() == 0 ? Optional.empty() : addressOf.apply(s.leaderId());
                b.append("master_host:").append(leader.map(InetSocketAddress::getHostString).orElse("")).append("\r\n")
                        .append("master_port:").append(leader.map(a -> a.getPort() + portOffset).orElse(0)).append("\r\n")
                        .append("master_link_status:").append(leader.isPresent() ? "up" : "down").append("\r\n");
            }
            b.append("flotilla_node_id:").append(s.nodeId()).append("\r\n")
                    .append("flotilla_role:").append(s.role()).append("\r\n")
                    .append("flotilla_leader_id:").append(s.leaderId()).append("\r\n")
                    .append("flotilla_term:").append(s.term()).append("\r\n")
                    .append("flotilla_commit_index:").append(s.commitIndex()).append("\r\n")
                    .append("flotilla_applied_index:").append(s.appliedIndex()).append("\r\n")
                    .append("flotilla_last_index:").append(s.lastIndex()).append("\r\n")
                    .append("\r\n");
        }
        if (all || section.equals("keyspace")) {
            b.append("# Keyspace\r\n");
            if (s.details().keyCount() > 0) {
                b.append("db0:keys=").append(s.details().keyCount()).append(",expires=0,avg_ttl=0\r\n");
            }
        }
        return b.toString();
    }
}
