package io.flotilla.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.client.wire.NodeStatus;
import io.flotilla.core.Member;
import io.flotilla.core.protocol.Status;
import io.flotilla.server.http.HttpAnswer;
import io.flotilla.server.http.HttpPort;
import io.flotilla.server.net.NodeServer;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** The HTTP port's answers about this node: {@code /health} and {@code /status} (docs/operations.md). */
final class AdminRoutes {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final StatusReporter reporter;
    private final Supplier<NodeServer> port;

    AdminRoutes(StatusReporter reporter, Supplier<NodeServer> port) {
        this.reporter = reporter;
        this.port = port;
    }

    /** The routes this class answers, by path. */
    Map<String, HttpPort.Route> routes() {
        return Map.of("/health", this::health, "/status", this::status);
    }

    /**
     * 200 when the node belongs to the cluster, knows a leader, has applied up to within
     * --health-max-lag of the leader's commit index and has not failed; 503 with the reason otherwise.
     * {@code ?serializable=true} only asks whether the node works and belongs (a liveness probe).
     */
    CompletableFuture<HttpAnswer> health(QueryStringDecoder request) {
        boolean serializable = request.parameters().getOrDefault("serializable", List.of("false")).contains("true");
        String problem = reporter.healthProblem(serializable);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("health", problem.isEmpty());
        if (!problem.isEmpty()) {
            body.put("reason", problem);
        }
        return CompletableFuture.completedFuture(HttpAnswer.json(problem.isEmpty() ? 200 : 503, bytes(body)));
    }

    /** The node's full status as JSON: what {@code flotilla-client status} shows, and more. */
    CompletableFuture<HttpAnswer> status(QueryStringDecoder request) {
        return CompletableFuture.completedFuture(HttpAnswer.json(200, bytes(statusJson())));
    }

    Map<String, Object> statusJson() {
        NodeStatus s = reporter.status();
        Map<String, Object> out = describe(s);
        Status raft = reporter.raftStatus();
        if (raft != null) {
            List<Map<String, Object>> members = new ArrayList<>();
            for (Member m : raft.members().members().values()) {
                Map<String, Object> member = new LinkedHashMap<>();
                member.put("id", m.id());
                member.put("address", m.address());
                member.put("kind", m.kind().name().toLowerCase(java.util.Locale.ROOT));
                Status.PeerStatus p = raft.peers().get(m.id());
                if (p != null) {
                    member.put("matchIndex", p.matchIndex());
                    member.put("nextIndex", p.nextIndex());
                    member.put("replication", p.state());
                    member.put("lag", Math.max(0, raft.lastIndex() - p.matchIndex()));
                }
                members.add(member);
            }
            out.put("members", members);
            out.put("membersCommitted", raft.membersCommitted());
            out.put("removedIds", raft.members().removed());
            out.put("droppedInvalidMessages", raft.droppedInvalid());
        }
        NodeServer server = port.get();
        if (server != null) {
            Map<String, Object> connections = new LinkedHashMap<>();
            connections.put("clients", server.clientConnections());
            connections.put("refusedClients", server.refusedClients());
            connections.put("refusedHandshakes", server.refusedHandshakes());
            connections.put("closedForBadInput", server.closedForBadInput());
            connections.put("closedSlowReaders", server.closedSlowReaders());
            connections.put("closedIdle", server.closedIdle());
            out.put("connections", connections);
        }
        return out;
    }

    /** A status (this node's, or another member's as it answered) as the JSON the page and /status use. */
    static Map<String, Object> describe(NodeStatus s) {
        NodeStatus.Details d = s.details();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", s.nodeId());
        out.put("version", d.version());
        out.put("uptimeMillis", d.uptimeMillis());
        out.put("role", s.role());
        out.put("term", s.term());
        out.put("leaderId", s.leaderId());
        out.put("commitIndex", s.commitIndex());
        out.put("appliedIndex", s.appliedIndex());
        out.put("lastIndex", s.lastIndex());
        out.put("leaderCommitIndex", d.leaderCommit());
        out.put("lag", s.lag());
        out.put("snapshotIndex", d.snapshotIndex());
        out.put("snapshotTerm", d.snapshotTerm());
        out.put("snapshotTimeMillis", d.snapshotTimeMillis());
        out.put("keys", d.keyCount());
        out.put("dataDirBytes", d.dataDirBytes());
        out.put("healthy", d.healthy());
        if (!d.healthy()) {
            out.put("healthProblem", d.healthProblem());
        }
        out.put("removed", s.removed());
        // Clients' requests sent to this node since it started (a relayed one counts where it entered).
        Map<String, Object> requests = new LinkedHashMap<>();
        requests.put("writes", d.writes());
        requests.put("reads", d.reads());
        out.put("requests", requests);
        return out;
    }

    static byte[] bytes(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // maps of strings and numbers always serialize
        }
    }
}
