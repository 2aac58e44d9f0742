package io.flotilla.client;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.Membership;
import io.flotilla.client.wire.SnapshotInfo;
import io.flotilla.core.Bytes;
import io.flotilla.core.Member;
import io.flotilla.core.MembershipChange;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A connection to a Flotilla cluster. It finds the leader among the configured nodes by itself,
 * remembers it and finds it again when it moves; it keeps one connection per node with many
 * requests in flight on each; and it retries failed attempts within a deadline and a retry budget
 * ({@link ClientOptions}). Writes carry this client's session numbers, so a retried write is
 * applied once. Thread-safe: share one client across an application.
 *
 * <p>Every operation comes in an asynchronous form ({@code getAsync}, ...) and a blocking one, for
 * byte strings ({@link Bytes}) and, as a convenience, for UTF-8 strings. A call that cannot complete
 * fails with a {@link FlotillaException}: a {@link ClusterUnavailableException} if the deadline or
 * the retry budget ran out, a {@link RequestRejectedException} if the cluster refused the request;
 * {@link FlotillaException#mayHaveBeenApplied()} says whether a write may have taken effect anyway.
 *
 * <p>Futures complete on the client's I/O thread: keep dependent actions short, or use the
 * {@code *Async} methods of {@link CompletableFuture}. The blocking methods must not be called
 * from such a callback.
 */
public final class FlotillaClient implements AutoCloseable {
    private final ClientOptions options;
    private final EventLoopGroup group;
    private final Connections connections;
    private final LeaderTracker tracker;
    private final SecureRandom random = new SecureRandom();
    private volatile WriteSession session;
    private final Set<Call> calls = ConcurrentHashMap.newKeySet();
    private final AtomicInteger inProgress = new AtomicInteger();
    private volatile boolean closed;

    private FlotillaClient(ClientOptions options) {
        this.options = options;
        this.group = NettyIo.group(options.ioThreads(), new DefaultThreadFactory("flotilla-client", true));
        try {
            this.connections = new Connections(group, options);
        } catch (RuntimeException badTlsFile) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw badTlsFile;
        }
        this.tracker = new LeaderTracker(connections, options.cluster(), options.leaderCheckInterval());
        this.session = new WriteSession(random.nextLong());
    }

    /**
     * A client for these options. No connection is opened until the first call; TLS files are read
     * here, and a missing or invalid one fails with an {@link IllegalArgumentException} naming it.
     */
    public static FlotillaClient create(ClientOptions options) {
        return new FlotillaClient(options);
    }

    /** A client with {@link ClientOptions#defaults()}: the nodes in FLOTILLA_CLUSTER, else the three local ones. */
    public static FlotillaClient create() {
        return create(ClientOptions.defaults());
    }

    // ---- asynchronous, byte strings ------------------------------------------------------------

    /** The key's value, or empty if it is absent; a linearizable read. */
    public CompletableFuture<Optional<Bytes>> getAsync(Bytes key) {
        return getAsync(key, ReadConsistency.LINEARIZABLE);
    }

    public CompletableFuture<Optional<Bytes>> getAsync(Bytes key, ReadConsistency consistency) {
        return run("get " + key, new Request.Get(key, consistency == ReadConsistency.STALE), null)
                .thenApply(r -> r instanceof Response.Value v ? Optional.of(v.value()) : Optional.empty());
    }

    public CompletableFuture<Void> setAsync(Bytes key, Bytes value) {
        return write("set " + key, s -> new Request.Set(s, key, value)).thenApply(r -> null);
    }

    /** Deletes the key; completes with true if it was present. */
    public CompletableFuture<Boolean> deleteAsync(Bytes key) {
        return write("delete " + key, s -> new Request.Delete(s, key)).thenApply(r -> r.code() == Response.Code.OK);
    }

    /**
     * Sets {@code key} to {@code value} only if it now holds {@code expected} (empty: only if it is
     * absent); completes with true if it did, false if the key held something else.
     */
    public CompletableFuture<Boolean> casAsync(Bytes key, Optional<Bytes> expected, Bytes value) {
        return write("cas " + key, s -> new Request.Cas(s, key, expected, value)).thenApply(r -> r.code() == Response.Code.OK);
    }

    /** Asks every known node about itself, once each (no retries); never fails for unreachable nodes. */
    public CompletableFuture<ClusterStatus> statusAsync() {
        Duration timeout = options.attemptTimeout().compareTo(options.deadline()) < 0 ? options.attemptTimeout() : options.deadline();
        List<InetSocketAddress> nodes = tracker.members();
        List<CompletableFuture<ClusterStatus.Node>> answers = new ArrayList<>();
        for (InetSocketAddress node : nodes) {
            answers.add(tracker.probe(node, timeout).handle((status, error) -> error == null
                    ? new ClusterStatus.Node(node, Optional.of(status), "")
                    : new ClusterStatus.Node(node, Optional.empty(), LeaderTracker.reason(error))));
        }
        return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
                .thenApply(done -> new ClusterStatus(answers.stream().map(CompletableFuture::join).toList()));
    }

    /** The cluster's members as its leader sees them: addresses, kinds, replication progress, removed ids. */
    public CompletableFuture<Membership> membersAsync() {
        return run("member list", new Request.MemberList(), null).thenApply(FlotillaClient::membership);
    }

    /**
     * Adds node {@code id}, listening at {@code address} ("host:port"), as a non-voting member that
     * receives the log. Unless {@code learner}, the leader promotes it to voter by itself once it has
     * caught up; a learner stays one until {@link #promoteMemberAsync promoted}. Completes with the
     * membership after the change. Start the node first with {@code --join}.
     */
    public CompletableFuture<Membership> addMemberAsync(int id, String address, boolean learner) {
        return change("member add " + id, new MembershipChange.AddLearner(id, address, !learner));
    }

    /** Makes learner {@code id} a voter; refused unless it has caught up with the leader. */
    public CompletableFuture<Membership> promoteMemberAsync(int id) {
        return change("member promote " + id, new MembershipChange.Promote(id));
    }

    /** Removes member {@code id}; it stops, and its id is never used again in this cluster. */
    public CompletableFuture<Membership> removeMemberAsync(int id) {
        return change("member remove " + id, new MembershipChange.Remove(id));
    }

    /**
     * Saves a backup of the whole store to {@code file} ({@link BackupFile}): the leader takes (or
     * reuses) a snapshot holding every write acknowledged before this call, and this client reads it
     * into {@code file.tmp}, checks its CRC32C, syncs it and renames it to {@code file} (replacing one
     * that exists only with a complete, verified backup). Each step (the snapshot, each chunk of its
     * data) is bounded by {@link ClientOptions#deadline()}; a large store may need a longer one.
     * Blocking: do not call it from a callback on the client's thread.
     *
     * @throws IOException        if {@code file} cannot be written (nothing is left behind)
     * @throws FlotillaException  if the cluster could not provide the snapshot in time
     */
    public BackupFile.Saved saveSnapshot(java.nio.file.Path file) throws java.io.IOException {
        for (EventExecutor loop : group) {
            if (loop.inEventLoop()) {
                throw new IllegalStateException("saveSnapshot blocks; it cannot run on the client's own I/O thread");
            }
        }
        return new SnapshotSaver(this).save(file);
    }

    /**
     * Asks the leader for a consistent snapshot and holds it open for reading (the first step of
     * {@link #saveSnapshot}); one attempt may wait the whole deadline, as taking a snapshot of a
     * large store takes a while.
     */
    SnapshotInfo beginSnapshot() {
        return await(run("snapshot", new Request.SnapshotBegin(), null, options.deadline()).thenApply(r -> {
            if (r instanceof Response.Snapshot s) {
                return s.info();
            }
            throw new CompletionException(new IllegalStateException("the cluster answered a snapshot request with " + r));
        }));
    }

    /** One chunk of a snapshot {@link #beginSnapshot} opened. */
    Response.SnapshotData readSnapshot(Request.SnapshotRead read) {
        return await(run("snapshot read at " + read.offset(), read, null).thenApply(r -> {
            if (r instanceof Response.SnapshotData d) {
                return d;
            }
            throw new CompletionException(new IllegalStateException("the cluster answered a snapshot read with " + r));
        }));
    }

    // ---- blocking, byte strings -----------------------------------------------------------------

    public Optional<Bytes> get(Bytes key) {
        return await(getAsync(key));
    }

    public Optional<Bytes> get(Bytes key, ReadConsistency consistency) {
        return await(getAsync(key, consistency));
    }

    public void set(Bytes key, Bytes value) {
        await(setAsync(key, value));
    }

    public boolean delete(Bytes key) {
        return await(deleteAsync(key));
    }

    public boolean cas(Bytes key, Optional<Bytes> expected, Bytes value) {
        return await(casAsync(key, expected, value));
    }

    public ClusterStatus status() {
        return await(statusAsync());
    }

    public Membership members() {
        return await(membersAsync());
    }

    /** See {@link #addMemberAsync}. */
    public Membership addMember(int id, String address, boolean learner) {
        return await(addMemberAsync(id, address, learner));
    }

    public Membership promoteMember(int id) {
        return await(promoteMemberAsync(id));
    }

    public Membership removeMember(int id) {
        return await(removeMemberAsync(id));
    }

    // ---- blocking, UTF-8 strings ------------------------------------------------------------------

    public Optional<String> get(String key) {
        return get(Bytes.utf8(key)).map(Bytes::utf8);
    }

    public Optional<String> get(String key, ReadConsistency consistency) {
        return get(Bytes.utf8(key), consistency).map(Bytes::utf8);
    }

    public void set(String key, String value) {
        set(Bytes.utf8(key), Bytes.utf8(value));
    }

    /** Deletes the key; true if it was present. */
    public boolean delete(String key) {
        return delete(Bytes.utf8(key));
    }

    /** Sets {@code key} to {@code value} if it now holds {@code expected}, or, if {@code expected} is null, if it is absent. */
    public boolean cas(String key, String expected, String value) {
        return cas(Bytes.utf8(key), Optional.ofNullable(expected).map(Bytes::utf8), Bytes.utf8(value));
    }

    // ---- the rest ----------------------------------------------------------------------------------

    /** The node this client believes leads, if it knows one. */
    public Optional<InetSocketAddress> leader() {
        return tracker.leader();
    }

    public ClientOptions options() {
        return options;
    }

    /** Fails every call still in progress and closes the connections and the I/O threads. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        calls.forEach(Call::abort);
        connections.close();
        group.shutdownGracefully(0, 200, TimeUnit.MILLISECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    // ---- internals -----------------------------------------------------------------------------------

    /**
     * A membership change is retried like a write, but without a session: the cluster refuses a
     * change that was already made (the member is there, or already removed). So when an attempt may
     * have been applied and a later one is refused, the refusal may be the first attempt's doing:
     * the membership tells, and a change found made counts as done.
     */
    private CompletableFuture<Membership> change(String what, MembershipChange change) {
        return run(what, new Request.MemberChange(change), null).thenApply(FlotillaClient::membership)
                .exceptionallyCompose(error -> {
                    Throwable cause = Futures.cause(error);
                    if (!(cause instanceof RequestRejectedException rejected && rejected.mayHaveBeenApplied())) {
                        return CompletableFuture.failedFuture(cause);
                    }
                    return membersAsync().handle((membership, unknown) -> {
                        if (unknown == null && isMade(change, membership)) {
                            return membership;
                        }
                        throw new CompletionException(cause);
                    });
                });
    }

    /** Whether the membership shows {@code change} made. */
    static boolean isMade(MembershipChange change, Membership membership) {
        if (change instanceof MembershipChange.AddLearner add) {
            return membership.member(add.id()).map(m -> m.address().equals(add.address())).orElse(false);
        } else if (change instanceof MembershipChange.Promote) {
            return membership.member(change.id()).map(m -> m.kind() == Member.Kind.VOTER).orElse(false);
        }
        return membership.isRemoved(change.id());
    }

    private static Membership membership(Response response) {
        if (response instanceof Response.Members m) {
            return m.membership();
        }
        throw new CompletionException(new IllegalStateException("the cluster answered a membership request with " + response));
    }

    private interface WriteBuilder {
        Request.Write build(io.flotilla.client.wire.Session session);
    }

    private CompletableFuture<Response> write(String what, WriteBuilder builder) {
        if (closed || inProgress.get() >= options.maxInFlight()) {
            return refuse(what, true); // checked before numbering the write, so no number is wasted
        }
        WriteSession current = session;
        io.flotilla.client.wire.Session numbers;
        try {
            numbers = current.next();
        } catch (ClusterUnavailableException e) {
            return CompletableFuture.failedFuture(new ClusterUnavailableException(what + " failed: " + e.getMessage(), false, null));
        }
        return run(what, builder.build(numbers), current);
    }

    private CompletableFuture<Response> run(String what, Request request, WriteSession writeSession) {
        return run(what, request, writeSession, options.attemptTimeout());
    }

    private CompletableFuture<Response> run(String what, Request request, WriteSession writeSession, Duration attemptTimeout) {
        if (closed || inProgress.incrementAndGet() > options.maxInFlight()) {
            if (!closed) {
                inProgress.decrementAndGet();
            }
            if (writeSession != null && request instanceof Request.Write w) {
                writeSession.settled(w.session());
            }
            return refuse(what, writeSession != null);
        }
        Call call = new Call(this, shorten(what), request, writeSession, attemptTimeout);
        calls.add(call);
        call.result.whenComplete((r, e) -> {
            calls.remove(call);
            inProgress.decrementAndGet();
        });
        if (closed) {
            call.abort();
        } else {
            call.attempt();
        }
        return call.result;
    }

    private CompletableFuture<Response> refuse(String what, boolean write) {
        String why = closed ? "the client is closed" : options.maxInFlight() + " calls are already in progress (ClientOptions.maxInFlight)";
        return CompletableFuture.failedFuture(new ClusterUnavailableException(shorten(what) + " failed: " + why
                + (write ? ". The write was not applied" : ""), false, null));
    }

    private static String shorten(String what) {
        return what.length() <= 120 ? what : what.substring(0, 117) + "...";
    }

    /** A fresh session after the cluster forgot {@code expired}; concurrent callers share one. */
    synchronized WriteSession renewSession(WriteSession expired) {
        if (session == expired) {
            session = new WriteSession(random.nextLong());
        }
        return session;
    }

    private <T> T await(CompletableFuture<T> future) {
        for (EventExecutor loop : group) {
            if (loop.inEventLoop()) {
                throw new IllegalStateException("a blocking FlotillaClient call on the client's own I/O thread would wait forever;"
                        + " use the *Async form in callbacks");
            }
        }
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompletionException("interrupted while waiting for the cluster", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new CompletionException(cause);
        }
    }

    EventLoopGroup group() {
        return group;
    }

    Connections connections() {
        return connections;
    }

    LeaderTracker tracker() {
        return tracker;
    }

    /** The session the next write gets; for tests. */
    WriteSession session() {
        return session;
    }
}
