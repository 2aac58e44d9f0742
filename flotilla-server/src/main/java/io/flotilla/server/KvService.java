package io.flotilla.server;

import io.flotilla.client.Futures;
import io.flotilla.client.NotSentException;
import io.flotilla.client.wire.NodeStatus;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.ChangeRefusedException;
import io.flotilla.core.NotLeaderException;
import io.flotilla.core.OutcomeUnknownException;
import io.flotilla.core.RaftException;
import io.flotilla.core.RaftRuntime;
import io.flotilla.core.protocol.Status;
import io.flotilla.server.kv.KvCommand;
import io.flotilla.server.kv.KvLimits;
import io.flotilla.server.net.NodeServer;
import io.flotilla.client.wire.Membership;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.Member;
import io.flotilla.core.protocol.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Turns client requests into Raft operations: writes are proposed, GETs are linearizable reads
 * (or local ones if the client asks for stale reads). On a follower, both are relayed to the leader.
 * Every outcome, including failures, becomes a {@link Response}.
 */
final class KvService implements NodeServer.RequestHandler {
    private final RaftRuntime<KvCommand, Request.Read, Response> raft;
    private final KvLimits limits;
    private final Forwarder forwarder;
    private final Duration timeout;
    private final Supplier<NodeStatus> status;
    private final RequestCounters counters;
    private final BackupStreams backups;
    /** How long a snapshot for a backup may take (writing a large store's snapshot takes a while). */
    static final Duration SNAPSHOT_TIMEOUT = Duration.ofMinutes(5);

    KvService(RaftRuntime<KvCommand, Request.Read, Response> raft, KvLimits limits, Forwarder forwarder, Duration timeout,
              Supplier<NodeStatus> status, RequestCounters counters, BackupStreams backups) {
        this.raft = raft;
        this.status = status;
        this.counters = counters;
        this.limits = limits;
        this.forwarder = forwarder;
        this.timeout = timeout;
        this.backups = backups;
    }

    @Override
    public CompletableFuture<Response> handle(Request request, boolean forwarded) {
        Optional<Response> refusal = limits.check(request);
        if (refusal.isPresent()) {
            return CompletableFuture.completedFuture(refusal.get());
        }
        if (request instanceof Request.StatusQuery) {
            return CompletableFuture.completedFuture(new Response.Status(status.get()));
        }
        if (request instanceof Request.MemberList || request instanceof Request.MemberChange) {
            return membership(request, forwarded);
        }
        if (request instanceof Request.SnapshotBegin) {
            // The leader takes the snapshot; a follower relays the request (NotLeaderException), as it does reads.
            return backups.begin().orTimeout(SNAPSHOT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .handle((response, error) -> error == null ? done(response) : onFailure(Futures.cause(error), request, forwarded))
                    .thenCompose(Function.identity());
        }
        if (request instanceof Request.SnapshotRead read) {
            return snapshotRead(read, forwarded);
        }
        if (request instanceof Request.Read read && read.stale() && raft.status().members().members().isEmpty()) {
            // An empty state machine would answer "absent" for keys the cluster holds.
            return done(new Response.Failure(Response.Code.UNAVAILABLE, "node " + raft.status().id()
                    + " has no data yet: it waits to be added to the cluster (or to learn whether it exists); ask another node"));
        }
        if (!forwarded) { // a relayed request was counted where the client sent it
            if (request instanceof Request.Read) {
                counters.read();
            } else {
                counters.write();
            }
        }
        CompletableFuture<Response> local = request instanceof Request.Read read // else a write: all other requests are handled above
                ? (read.stale() ? raft.readStale(read) : raft.read(read))
                : raft.propose(new KvCommand.Write(Math.max(0, System.currentTimeMillis()), (Request.Write) request));
        return local.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .handle((response, error) -> error == null ? done(response) : onFailure(Futures.cause(error), request, forwarded))
                .thenCompose(Function.identity());
    }

    /**
     * The leader answers membership requests; a follower relays them like writes. The list comes
     * from the leader's own view (it knows every member's progress), without a round of heartbeats:
     * it is a report, not a linearizable read, but only of a committed configuration.
     */
    private CompletableFuture<Response> membership(Request request, boolean forwarded) {
        if (request instanceof Request.MemberChange change) {
            return raft.changeMembership(change.change()).orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .handle((config, error) -> error == null ? done(new Response.Members(membership(raft.status(), config)))
                            : onFailure(Futures.cause(error), request, forwarded))
                    .thenCompose(Function.identity());
        }
        Status s = raft.status();
        if (s.role() != Role.LEADER) {
            return onFailure(new NotLeaderException(s.leader()), request, forwarded);
        }
        if (!s.membersCommitted()) {
            // A list is read back to learn whether a change was made: show only committed configurations.
            return done(new Response.Failure(Response.Code.UNAVAILABLE, "a membership change is being committed; retry shortly"));
        }
        return done(new Response.Members(membership(s, s.members())));
    }

    /**
     * A snapshot is read from the node that holds it open (named in the request), leader or not: any
     * other node relays the read there, once.
     */
    private CompletableFuture<Response> snapshotRead(Request.SnapshotRead read, boolean forwarded) {
        int self = raft.status().id();
        if (read.nodeId() == self) {
            return backups.read(read);
        }
        if (forwarded) {
            return done(new Response.Failure(Response.Code.INVALID, "snapshot stream " + Long.toHexString(read.streamId())
                    + " is held by node " + read.nodeId() + ", not node " + self));
        }
        return forwarder.forward(read.nodeId(), read, timeout).exceptionally(error -> new Response.Failure(Response.Code.UNAVAILABLE,
                "cannot reach node " + read.nodeId() + ", which holds the snapshot: " + Futures.cause(error).getMessage()));
    }

    /** {@code config} with each member's progress as the leader's {@code status} has it. */
    static Membership membership(Status status, ClusterConfig config) {
        List<Membership.MemberInfo> members = new ArrayList<>();
        for (Member m : config.members().values()) {
            Status.PeerStatus peer = status.peers().get(m.id());
            long match = m.id() == status.id() ? status.lastIndex() : peer == null ? 0 : peer.matchIndex();
            members.add(new Membership.MemberInfo(m.id(), m.address(), m.kind(), match, Math.max(0, status.lastIndex() - match)));
        }
        return new Membership(status.id(), members, List.copyOf(config.removed()));
    }

    /**
     * Failures answer at once, even during an election: the client sees more nodes than this one
     * (this one may be the minority side of a partition) and finds the new leader itself.
     */
    private CompletableFuture<Response> onFailure(Throwable error, Request request, boolean forwarded) {
        if (error instanceof NotLeaderException n) {
            if (n.leader() == 0) {
                return done(new Response.Failure(Response.Code.NO_LEADER, "no leader is known (an election may be running); retry shortly"));
            }
            if (forwarded) {
                return done(forwarder.notLeader(n.leader(), "not the leader; node " + n.leader() + " is"));
            }
            // A leader this node cannot reach is most likely gone and about to be replaced: say there is
            // no leader (the client polls and looks for one) rather than send the client to it.
            Duration relayTimeout = request instanceof Request.SnapshotBegin ? SNAPSHOT_TIMEOUT : timeout;
            return forwarder.forward(n.leader(), request, relayTimeout).handle((response, relayError) -> {
                Throwable cause = relayError == null ? null : Futures.cause(relayError);
                return cause == null ? response : cause instanceof NotSentException
                        ? new Response.Failure(Response.Code.NO_LEADER, cause.getMessage() + "; retry shortly")
                        : failure(cause, request, timeout);
            });
        }
        return done(failure(error, request, timeout));
    }

    /**
     * The answer to a request that failed other than for want of a leader. It says "not applied"
     * only when that is certain: the node refused the command before appending it, or a different
     * entry was committed at its index ({@link RaftException}). Whenever the command may be in the
     * log, a write's answer is UNKNOWN_OUTCOME (docs/protocol.md, "Not applied, or unknown").
     */
    static Response failure(Throwable error, Request request, Duration timeout) {
        if (error instanceof ChangeRefusedException) {
            return new Response.Failure(Response.Code.INVALID, error.getMessage()); // the core's one-line reason
        }
        if (error instanceof RaftException) {
            return new Response.Failure(Response.Code.UNAVAILABLE, error.getMessage() + " (not applied)");
        }
        if (!request.changesState()) {
            return new Response.Failure(Response.Code.UNAVAILABLE, error instanceof TimeoutException
                    ? "no answer within " + timeout.toMillis() + " ms"
                    : error instanceof OutcomeUnknownException ? error.getMessage() : "internal error: " + error);
        }
        String what = request instanceof Request.Write ? "write" : "change";
        if (error instanceof OutcomeUnknownException) {
            return new Response.Failure(Response.Code.UNKNOWN_OUTCOME, error.getMessage()
                    + "; the " + what + " may or may not have been applied" + (request instanceof Request.Write ? ": retry it with the same session" : ""));
        }
        if (error instanceof TimeoutException) {
            return new Response.Failure(Response.Code.UNKNOWN_OUTCOME, "no outcome within " + timeout.toMillis()
                    + " ms; the " + what + " may or may not have been applied");
        }
        return new Response.Failure(Response.Code.UNKNOWN_OUTCOME, "internal error: " + error
                + "; the " + what + " may or may not have been applied");
    }

    private static CompletableFuture<Response> done(Response response) {
        return CompletableFuture.completedFuture(response);
    }

}
