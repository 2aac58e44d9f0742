package io.flotilla.server.resp;

import io.flotilla.client.RetryPolicy;
import io.flotilla.client.WriteSession;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.Session;
import io.flotilla.core.Bytes;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A Redis connection as the store sees it: a client with its own session, so a write this node
 * retries (its leader died, the outcome was unknown) applies once. Redis clients do not retry
 * writes themselves, so the node does it for them, with the same session numbers, until the
 * deadline: a leader change costs a Redis client some latency, not an error.
 */
final class RespClient {
    private static final AtomicLong ids = new AtomicLong();
    private static final RetryPolicy RETRIES = new RetryPolicy(Integer.MAX_VALUE, java.time.Duration.ofMillis(20),
            java.time.Duration.ofMillis(250));

    private final long id = ids.incrementAndGet();
    private final WriteSession session = new WriteSession(ThreadLocalRandom.current().nextLong());
    private final RespNode node;
    private final ScheduledExecutorService timer;
    private volatile String name = "";
    private volatile boolean readonly;

    RespClient(RespNode node, ScheduledExecutorService timer) {
        this.node = node;
        this.timer = timer;
    }

    long id() {
        return id;
    }

    String name() {
        return name;
    }

    void name(String name) {
        this.name = name;
    }

    boolean readonly() {
        return readonly;
    }

    /** After READONLY, GETs are this node's local (possibly stale) reads, as on a Redis Cluster replica. */
    void readonly(boolean readonly) {
        this.readonly = readonly;
    }

    /** A GET: linearizable, or local after READONLY. Answers Value, NOT_FOUND or a failure. */
    CompletableFuture<Response> read(Bytes key) {
        Request get = new Request.Get(key, readonly);
        return attempt(s -> get, null, deadline(), 1);
    }

    /** Many keys read at one point of the log, as {@link #read}. Answers Values or a failure. */
    CompletableFuture<Response> read(List<Bytes> keys) {
        Request get = new Request.GetMany(keys, readonly);
        return attempt(s -> get, null, deadline(), 1);
    }

    /** A write, numbered in this connection's session. */
    CompletableFuture<Response> write(Function<Session, Request> request) {
        Session s;
        try {
            s = session.next();
        } catch (RuntimeException tooMany) {
            return CompletableFuture.completedFuture(new Response.Failure(Response.Code.UNAVAILABLE, tooMany.getMessage()));
        }
        return attempt(request, s, deadline(), 1).whenComplete((r, e) -> session.settled(s));
    }

    private long deadline() {
        return System.nanoTime() + node.deadline().toNanos();
    }

    private CompletableFuture<Response> attempt(Function<Session, Request> request, Session s, long deadline, int attempt) {
        Session current = s == null ? null : session.refreshed(s);
        return node.requests().handle(request.apply(current), false).thenCompose(r -> {
            if (!(r.code().retryable()) || System.nanoTime() >= deadline) {
                return CompletableFuture.completedFuture(r);
            }
            // Not applied, or (UNKNOWN_OUTCOME) perhaps applied: then every later attempt says so, and the
            // cluster answers a duplicate from the session instead of applying it again.
            Session next = current != null && r.code() == Response.Code.UNKNOWN_OUTCOME ? current.asRetry() : current;
            CompletableFuture<Response> later = new CompletableFuture<>();
            long waitNanos = Math.min(RETRIES.backoff(attempt).toNanos(), Math.max(0, deadline - System.nanoTime()));
            timer.schedule(() -> attempt(request, next, deadline, attempt + 1).whenComplete((again, error) -> {
                if (error != null) {
                    later.completeExceptionally(error);
                } else {
                    later.complete(again);
                }
            }), waitNanos, TimeUnit.NANOSECONDS);
            return later;
        });
    }
}
