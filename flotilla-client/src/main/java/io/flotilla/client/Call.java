package io.flotilla.client;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One call of {@link FlotillaClient}: its attempts, one after another, until an answer, the retry
 * budget or the deadline. Every attempt of a write carries the same session numbers, so the cluster
 * applies it at most once however often it is sent. Attempts run on the client's I/O threads; the
 * fields below are only touched by one attempt at a time, each handing over to the next through a
 * future or the event loop.
 */
final class Call {
    private final FlotillaClient client;
    private final ClientOptions options;
    private final String what;
    private final long startNanos = System.nanoTime();
    private final long deadlineNanos;
    /** How long one attempt waits for its answer before another node is tried. */
    private final Duration attemptTimeout;
    private Request request;
    private WriteSession session;
    private int attempts;
    /** NO_LEADER answers: polls through an election, not counted as attempts. */
    private int polls;
    private boolean lastWasNoLeader;
    private int failuresInARow;
    private boolean mayHaveBeenApplied;
    private Throwable lastError;
    /** Per node (or "discovery"): how many attempts failed there, and the latest reason. */
    private final Map<String, Tried> tried = new LinkedHashMap<>();
    final CompletableFuture<Response> result = new CompletableFuture<>();

    private static final class Tried {
        int times;
        String reason;
    }

    Call(FlotillaClient client, String what, Request request, WriteSession session) {
        this(client, what, request, session, client.options().attemptTimeout());
    }

    /** With its own attempt timeout: for a request the node takes long to answer (a snapshot). */
    Call(FlotillaClient client, String what, Request request, WriteSession session, Duration attemptTimeout) {
        this.client = client;
        this.options = client.options();
        this.what = what;
        this.request = request;
        this.session = session;
        this.deadlineNanos = startNanos + options.deadline().toNanos();
        this.attemptTimeout = attemptTimeout;
    }

    /** A write or a membership change: its outcome may be unknown. */
    private boolean changesState() {
        return request.changesState();
    }

    /** The request, when this call has a session: only writes do. */
    private Request.Write write() {
        return (Request.Write) request;
    }

    void attempt() {
        if (result.isDone()) {
            return;
        }
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            giveUp("its deadline of " + millis(options.deadline()) + " passed");
            return;
        }
        if (attempts >= options.retry().maxAttempts()) {
            giveUp("its retry budget of " + attempts + (attempts == 1 ? " attempt" : " attempts") + " was used up");
            return;
        }
        attempts++;
        if (session != null) {
            request = write().withSession(session.refreshed(write().session()));
        }
        Duration timeout = Duration.ofNanos(Math.min(left, attemptTimeout.toNanos()));
        Request sending = request;
        AtomicReference<InetSocketAddress> target = new AtomicReference<>();
        // Whether the request was handed to a connection, decided once: an attempt that timed out while
        // connecting must not send its request afterwards, or "not applied" would no longer be certain.
        // (CompletableFuture skips a compose whose result is already complete; this also covers a
        // timeout that fires while the compose runs.)
        AtomicInteger handover = new AtomicInteger(WAITING);
        client.tracker().target(timeout)
                .thenCompose(node -> {
                    target.set(node);
                    return client.connections().get(node);
                })
                .thenCompose(connection -> handover.compareAndSet(WAITING, SENT) ? connection.send(sending, timeout)
                        : CompletableFuture.failedFuture(new NotSentException("the attempt ended before it was sent")))
                .orTimeout(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS)
                .whenComplete((response, error) -> {
                    try {
                        if (error != null) {
                            failed(target.get(), !handover.compareAndSet(WAITING, ABANDONED), error, timeout);
                        } else {
                            answered(target.get(), response);
                        }
                    } catch (RuntimeException | Error bug) {
                        finish(null, bug);
                    }
                });
    }

    private static final int WAITING = 0;
    private static final int SENT = 1;
    private static final int ABANDONED = 2;

    private void failed(InetSocketAddress node, boolean sent, Throwable error, Duration timeout) {
        Throwable cause = Futures.cause(error);
        lastError = cause;
        // An attempt cut short by the deadline says nothing new: while polling through an election, it is one more poll.
        boolean cutShort = cause instanceof TimeoutException && timeout.compareTo(attemptTimeout) < 0;
        lastWasNoLeader &= cutShort;
        if (cause instanceof OverLimitException) {
            finish(null, new RequestRejectedException(what + " was refused before sending: " + cause.getMessage()
                    + (mayHaveBeenApplied ? "; an earlier attempt may have been applied" : ""), Response.Code.INVALID, mayHaveBeenApplied));
            return;
        }
        if (changesState() && sent && !(cause instanceof NotSentException)) {
            markMayHaveBeenApplied(); // it may have reached the leader, and its answer was lost
        }
        String reason = cause instanceof TimeoutException
                ? "no answer within " + millis(timeout) : LeaderTracker.reason(cause);
        if (node == null) {
            // No node answered at all (the message names each one's problem): wait before asking again.
            note("every node", cause instanceof TimeoutException ? reason : String.valueOf(cause.getMessage()));
            retryAfter(options.retry().backoff(++failuresInARow));
            return;
        }
        note(HostPort.format(node), reason);
        client.tracker().suspect(node);
        retryAfter(options.retry().backoff(failuresInARow++)); // the first retry goes at once, to another node
    }

    private void answered(InetSocketAddress node, Response response) {
        String where = HostPort.format(node);
        if (response instanceof Response.Value || response instanceof Response.Outcome || response instanceof Response.Status
                || response instanceof Response.Members || response instanceof Response.Snapshot
                || response instanceof Response.SnapshotData) {
            finish(response, null);
        } else if (response instanceof Response.NotLeader n) {
            note(where, "not the leader" + (n.leaderId() == 0 ? "" : "; named node " + n.leaderId()
                    + (n.leaderAddress().isEmpty() ? "" : " at " + n.leaderAddress())));
            client.tracker().redirect(node, n);
            retryAfter(options.retry().backoff(failuresInARow++));
        } else if (response instanceof Response.Failure f) {
            onFailure(node, where, f);
        } else {
            throw new AssertionError(response);
        }
    }

    private void onFailure(InetSocketAddress node, String where, Response.Failure f) {
        lastWasNoLeader = f.code() == Response.Code.NO_LEADER;
        switch (f.code()) {
            case NO_LEADER -> {
                // An election is running: it ends within a few hundred ms, so ask again soon (the first
                // backoff step, never growing) rather than back off past its end. Certainly not applied,
                // so these polls do not use up the retry budget; the deadline bounds them.
                note(where, describe(f));
                client.tracker().suspect(node);
                attempts--;
                polls++;
                retryAfter(options.retry().backoff(1));
            }
            case UNAVAILABLE -> {
                note(where, describe(f));
                client.tracker().suspect(node);
                retryAfter(options.retry().backoff(++failuresInARow)); // overloaded or stopping: back off
            }
            case UNKNOWN_OUTCOME -> {
                if (changesState()) {
                    markMayHaveBeenApplied();
                }
                note(where, describe(f));
                client.tracker().suspect(node);
                retryAfter(options.retry().backoff(failuresInARow++)); // same session numbers: applied at most once
            }
            case SESSION_EXPIRED -> {
                if (session == null || mayHaveBeenApplied) {
                    finish(null, new RequestRejectedException(what + " was refused: " + f.message()
                            + (mayHaveBeenApplied ? "; an earlier attempt may have been applied" : ""),
                            f.code(), mayHaveBeenApplied));
                    return;
                }
                // No attempt can have been applied: start a new session and send it as a new write.
                note(where, "session expired; starting a new one");
                session.settled(write().session());
                session = client.renewSession(session);
                request = write().withSession(session.next());
                retryAfter(Duration.ZERO);
            }
            // A membership change refused by the cluster says only the core's reason: it is the same on every node.
            case INVALID -> finish(null, new RequestRejectedException(what + (request instanceof Request.MemberChange ? " refused: "
                    : " was refused by " + where + ": ") + f.message()
                    + (mayHaveBeenApplied ? "; an earlier attempt may have been applied" : ""), f.code(), mayHaveBeenApplied,
                    f.message()));
            default -> throw new AssertionError(f);
        }
    }

    /**
     * An attempt of this write may have been applied: say so in every later attempt, so that a
     * cluster that has forgotten the session meanwhile refuses it rather than apply it twice.
     */
    private void markMayHaveBeenApplied() {
        mayHaveBeenApplied = true;
        if (session != null) {
            request = write().withSession(write().session().asRetry());
        }
    }

    private static String describe(Response.Failure f) {
        String code = f.code().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
        return f.message().isEmpty() ? code : code + ": " + f.message();
    }

    private void retryAfter(Duration delay) {
        if (result.isDone()) {
            return;
        }
        if (System.nanoTime() + delay.toNanos() >= deadlineNanos) {
            giveUp("its deadline of " + millis(options.deadline()) + " would pass before the next attempt");
            return;
        }
        try {
            if (delay.isZero()) {
                client.group().execute(this::attempt);
            } else {
                client.group().schedule(this::attempt, delay.toNanos(), TimeUnit.NANOSECONDS);
            }
        } catch (RejectedExecutionException e) {
            abort();
        }
    }

    /** Fails the call at once because the client is closing; may run on any thread, so it reads no attempt state. */
    void abort() {
        boolean maybe = changesState() && attempts > 0;
        finish(null, new ClusterUnavailableException(what + " failed: the client was closed"
                + (!changesState() ? "" : maybe ? ". The " + noun() + " MAY HAVE BEEN APPLIED" : ". The " + noun() + " was not applied"), maybe, null));
    }

    private void giveUp(String why) {
        String elapsed = millis(Duration.ofNanos(System.nanoTime() - startNanos));
        StringBuilder message = new StringBuilder(what).append(" failed: ");
        if (lastWasNoLeader) {
            // Polling through an election: what matters is how long no node named a leader, and what each said last.
            message.append("no leader after ").append(count(polls, "poll")).append(" in ").append(elapsed)
                    .append(" (").append(why).append(')');
            message.append("; last answers: ").append(String.join(", ", lastAnswers()));
        } else {
            message.append(why).append(" (").append(count(attempts, "attempt"))
                    .append(polls == 0 ? "" : " and " + count(polls, "no-leader poll")).append(" in ").append(elapsed).append(')');
            if (!tried.isEmpty()) {
                List<String> parts = new ArrayList<>();
                tried.forEach((node, t) -> parts.add(node + (t.times > 1 ? " x" + t.times : "") + ": " + t.reason));
                message.append("; tried ").append(String.join(", ", parts));
            }
        }
        if (changesState()) {
            message.append(mayHaveBeenApplied
                    ? ". The " + noun() + " MAY HAVE BEEN APPLIED: an attempt reached the cluster and its answer was lost"
                    : ". The " + noun() + " was not applied");
        }
        finish(null, new ClusterUnavailableException(message.toString(), mayHaveBeenApplied, lastError));
    }

    /** Each node's latest answer to a request of this call, else to the client's latest status query. */
    private List<String> lastAnswers() {
        List<String> out = new ArrayList<>();
        for (InetSocketAddress node : client.tracker().members()) {
            String where = HostPort.format(node);
            Tried t = tried.get(where);
            Optional<String> reason = t != null ? Optional.of(t.reason) : client.tracker().lastHeard(node);
            reason.ifPresent(r -> out.add(where + ": " + r));
        }
        return out;
    }

    private String noun() {
        return request instanceof Request.MemberChange ? "change" : "write";
    }

    private static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    private synchronized void finish(Response response, Throwable error) {
        if (result.isDone()) {
            return;
        }
        if (session != null) {
            session.settled(write().session());
        }
        if (error != null) {
            result.completeExceptionally(error);
        } else {
            result.complete(response);
        }
    }

    private void note(String node, String reason) {
        Tried t = tried.computeIfAbsent(node, k -> new Tried());
        t.times++;
        t.reason = reason;
    }

    static String millis(Duration d) {
        long ms = d.toMillis();
        return ms < 10_000 ? ms + " ms" : String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    }
}
