package io.flotilla.server;

import io.flotilla.client.wire.NodeStatus;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.NotLeaderException;
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
    private final Duration leaderWait;

    /** When a request must have its outcome, and until when it may wait for a leader (System.nanoTime). */
    private record Deadlines(long outcome, long leader) {
        long outcomeLeft() {
            return Math.max(1, outcome - System.nanoTime());
        }
    }

    KvService(RaftRuntime<KvCommand, Request.Get, Response> raft, KvLimits limits, Forwarder forwarder, Duration timeout,
              Duration leaderWait) {
        this.raft = raft;
        this.limits = limits;
        this.forwarder = forwarder;
        this.timeout = timeout;
        this.leaderWait = leaderWait.compareTo(timeout) < 0 ? leaderWait : timeout;
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
        if (request instanceof Request.Get get && get.stale()) {
            return raft.readStale(get).orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .handle((response, error) -> error == null ? done(response) : onFailure(unwrap(error), request, forwarded, null))
                    .thenCompose(Function.identity());
        }
        long now = System.nanoTime();
        return attempt(request, forwarded, new Deadlines(now + timeout.toNanos(), now + leaderWait.toNanos()));
    }

    /** One try to carry out {@code request} here or through the leader, within {@code deadline} (nanoTime). */
    private CompletableFuture<Response> attempt(Request request, boolean forwarded, Deadlines deadline) {
        CompletableFuture<Response> local = request instanceof Request.Get get
                ? raft.read(get)
                : raft.propose(new KvCommand(System.currentTimeMillis(), request));
        return local.orTimeout(deadline.outcomeLeft(), TimeUnit.NANOSECONDS)
                .handle((response, error) -> error == null ? done(response) : onFailure(unwrap(error), request, forwarded, deadline))
                .thenCompose(Function.identity());
    }

    private CompletableFuture<Response> onFailure(Throwable error, Request request, boolean forwarded, Deadlines deadline) {
        if (error instanceof NotLeaderException n) {
            if (n.leader() == 0) {
                return afterLeaderChange(0, request, forwarded, deadline, new Response.Failure(Response.Code.NO_LEADER,
                        "no leader is known (an election may be running); retry shortly"));
            }
            if (forwarded) {
                return done(forwarder.notLeader(n.leader(), "not the leader; node " + n.leader() + " is"));
            }
            return forwarder.forward(n.leader(), request, Duration.ofNanos(deadline.outcomeLeft()))
                    .handle((response, notSent) -> notSent == null ? done(response)
                            : afterLeaderChange(n.leader(), request, forwarded, deadline,
                                    forwarder.notLeader(n.leader(), unwrap(notSent).getMessage())))
                    .thenCompose(Function.identity());
        }
        if (error instanceof RaftException) {
            return done(new Response.Failure(Response.Code.UNAVAILABLE, error.getMessage() + " (not applied)"));
        }
        if (error instanceof TimeoutException) {
            return done(request.isWrite()
                    ? new Response.Failure(Response.Code.UNKNOWN_OUTCOME, "no outcome within " + timeout.toMillis()
                            + " ms; the write may or may not have been applied")
                    : new Response.Failure(Response.Code.UNAVAILABLE, "no answer within " + timeout.toMillis() + " ms"));
        }
        return done(new Response.Failure(request.isWrite() ? Response.Code.UNKNOWN_OUTCOME : Response.Code.UNAVAILABLE,
                "internal error: " + error));
    }

    /**
     * The request could not be served because no leader is known, or the known one ({@code leader})
     * cannot be reached: rather than answer at once and leave the client to poll, wait for the
     * election that will follow and try again, for up to the leader wait; then answer {@code giveUp}
     * (a leader that is alive but unreachable from here keeps being tried, and then named to the
     * client). Neither case sent the request anywhere, so trying again cannot apply a write twice.
     */
    private CompletableFuture<Response> afterLeaderChange(int leader, Request request, boolean forwarded, Deadlines deadline,
                                                         Response giveUp) {
        CompletableFuture<Status> change = raft.roleChange();
        long left = deadline.leader() - System.nanoTime();
        if (left <= 0) {
            return done(giveUp);
        }
        if (raft.status().leader() != leader) {
            return attempt(request, forwarded, deadline); // it changed before we started to wait
        }
        return change.thenApply(status -> true).completeOnTimeout(false, left, TimeUnit.NANOSECONDS)
                .thenCompose(changed -> changed ? attempt(request, forwarded, deadline) : done(giveUp));
    }

    private static CompletableFuture<Response> done(Response response) {
        return CompletableFuture.completedFuture(response);
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }
}
