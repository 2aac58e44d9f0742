package io.flotilla.server;

import io.flotilla.client.NotSentException;
import io.flotilla.client.wire.NodeStatus;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.NotLeaderException;
import io.flotilla.core.OutcomeUnknownException;
import io.flotilla.core.RaftException;
import io.flotilla.core.RaftRuntime;
import io.flotilla.core.protocol.Status;
import io.flotilla.server.kv.KvCommand;
import io.flotilla.server.kv.KvLimits;
import io.flotilla.server.net.NodeServer;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Turns client requests into Raft operations: writes are proposed, GETs are linearizable reads
 * (or local ones if the client asks for stale reads). On a follower, both are relayed to the leader.
 * Every outcome, including failures, becomes a {@link Response}.
 */
final class KvService implements NodeServer.RequestHandler {
    private final RaftRuntime<KvCommand, Request.Get, Response> raft;
    private final KvLimits limits;
    private final Forwarder forwarder;
    private final Duration timeout;

    KvService(RaftRuntime<KvCommand, Request.Get, Response> raft, KvLimits limits, Forwarder forwarder, Duration timeout) {
        this.raft = raft;
        this.limits = limits;
        this.forwarder = forwarder;
        this.timeout = timeout;
    }

    @Override
    public CompletableFuture<Response> handle(Request request, boolean forwarded) {
        Optional<Response> refusal = limits.check(request);
        if (refusal.isPresent()) {
            return CompletableFuture.completedFuture(refusal.get());
        }
        if (request instanceof Request.StatusQuery) {
            Status s = raft.status();
            return CompletableFuture.completedFuture(new Response.Status(new NodeStatus(s.id(), s.role().name(), s.term(),
                    s.leader(), s.commitIndex(), s.appliedIndex(), s.lastIndex())));
        }
        CompletableFuture<Response> local = request instanceof Request.Get get
                ? (get.stale() ? raft.readStale(get) : raft.read(get))
                : raft.propose(new KvCommand(System.currentTimeMillis(), request));
        return local.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .handle((response, error) -> error == null ? done(response) : onFailure(unwrap(error), request, forwarded))
                .thenCompose(Function.identity());
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
            return forwarder.forward(n.leader(), request, timeout).handle((response, relayError) -> {
                Throwable cause = relayError == null ? null : unwrap(relayError);
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
        if (error instanceof RaftException) {
            return new Response.Failure(Response.Code.UNAVAILABLE, error.getMessage() + " (not applied)");
        }
        if (!request.isWrite()) {
            return new Response.Failure(Response.Code.UNAVAILABLE, error instanceof TimeoutException
                    ? "no answer within " + timeout.toMillis() + " ms"
                    : error instanceof OutcomeUnknownException ? error.getMessage() : "internal error: " + error);
        }
        if (error instanceof OutcomeUnknownException) {
            return new Response.Failure(Response.Code.UNKNOWN_OUTCOME, error.getMessage()
                    + "; the write may or may not have been applied: retry it with the same session");
        }
        if (error instanceof TimeoutException) {
            return new Response.Failure(Response.Code.UNKNOWN_OUTCOME, "no outcome within " + timeout.toMillis()
                    + " ms; the write may or may not have been applied");
        }
        return new Response.Failure(Response.Code.UNKNOWN_OUTCOME, "internal error: " + error
                + "; the write may or may not have been applied");
    }

    private static CompletableFuture<Response> done(Response response) {
        return CompletableFuture.completedFuture(response);
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }
}
