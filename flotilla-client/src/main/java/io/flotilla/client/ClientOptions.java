package io.flotilla.client;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Everything a {@link FlotillaClient} needs, validated here. Start from {@link #defaults()} and
 * change what you need with the {@code with*} methods.
 *
 * @param cluster             the nodes to try, in order of preference; the leader is found among them
 * @param clusterId           the cluster's name, checked by the nodes; empty accepts any cluster
 * @param deadline            how long one call may take in total, retries included
 * @param attemptTimeout      how long one attempt waits for its answer before trying again (another node, if
 *                            the leader is not known), within the deadline: a node that is paused or cut off
 *                            costs this much per attempt, not the whole deadline
 * @param connectTimeout      how long opening a connection to one node may take
 * @param retry               the retry budget and backoff
 * @param maxInFlight         how many calls may be in progress at once; more fail at once, unsent
 * @param maxFrameBytes       the largest answer accepted (must cover the largest value)
 * @param ioThreads           threads of the client's Netty event loop group
 * @param leaderCheckInterval how often, while calls are being made, the client confirms that the node
 *                            it believes leads still does
 * @param tls                 {@link ClientTls#NONE} (plaintext), or the CA to trust and the client's own certificate
 */
public record ClientOptions(List<InetSocketAddress> cluster, String clusterId, Duration deadline, Duration attemptTimeout,
                            Duration connectTimeout, RetryPolicy retry, int maxInFlight, int maxFrameBytes, int ioThreads,
                            Duration leaderCheckInterval, ClientTls tls) {
    /** The environment variable that overrides the default node list: {@code host:port,host:port,...}. */
    public static final String CLUSTER_ENV = "FLOTILLA_CLUSTER";
    /** The three nodes that {@code bin/flotilla-cluster} starts. */
    public static final String LOCAL_CLUSTER = "127.0.0.1:5001,127.0.0.1:5002,127.0.0.1:5003";

    public ClientOptions {
        cluster = List.copyOf(new LinkedHashSet<>(cluster));
        if (cluster.isEmpty()) {
            throw new IllegalArgumentException("the cluster address list is empty");
        }
        if (clusterId == null) {
            throw new IllegalArgumentException("clusterId must not be null (use \"\" to accept any cluster)");
        }
        positive("deadline", deadline);
        positive("attemptTimeout", attemptTimeout);
        positive("connectTimeout", connectTimeout);
        positive("leaderCheckInterval", leaderCheckInterval);
        if (tls == null) {
            throw new IllegalArgumentException("tls must not be null (use ClientTls.NONE for plaintext)");
        }
        if (retry == null) {
            throw new IllegalArgumentException("retry policy must not be null");
        }
        if (maxInFlight < 1 || maxFrameBytes < 1024 || ioThreads < 1) {
            throw new IllegalArgumentException("maxInFlight (" + maxInFlight + ") and ioThreads (" + ioThreads
                    + ") must be positive and maxFrameBytes (" + maxFrameBytes + ") at least 1024");
        }
    }

    /**
     * The defaults: the nodes in {@value #CLUSTER_ENV} if it is set, else the three local nodes
     * ({@value #LOCAL_CLUSTER}); calls give up after 10 s or 16 attempts, and an attempt after 1 s (a
     * healthy cluster answers in milliseconds; a write the leader cannot commit within 1 s is tried
     * again, safely, with the same session numbers); one I/O thread.
     */
    public static ClientOptions defaults() {
        String fromEnv = System.getenv(CLUSTER_ENV);
        List<InetSocketAddress> cluster;
        try {
            cluster = parseCluster(fromEnv == null || fromEnv.isBlank() ? LOCAL_CLUSTER : fromEnv);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(CLUSTER_ENV + ": " + e.getMessage());
        }
        return new ClientOptions(cluster, "", Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofSeconds(1),
                RetryPolicy.DEFAULT, 10_000, 4 << 20, 1, Duration.ofSeconds(2), ClientTls.NONE);
    }

    /** The defaults, with these nodes: {@code "host:port,host:port"}. */
    public static ClientOptions of(String cluster) {
        return defaults().withCluster(parseCluster(cluster));
    }

    /**
     * Parses {@code host:port,host:port,...}; a bare {@code :port} or {@code port} means 127.0.0.1.
     * Names are not resolved here (the client resolves them when it connects).
     */
    public static List<InetSocketAddress> parseCluster(String spec) {
        List<InetSocketAddress> out = new ArrayList<>();
        for (String part : spec.split(",")) {
            String entry = part.trim();
            if (entry.isEmpty()) {
                continue;
            }
            // a bare port, or :port, is on this machine
            out.add(HostPort.parse(entry.matches("\\d+") ? "127.0.0.1:" + entry : entry.startsWith(":") ? "127.0.0.1" + entry : entry));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no node addresses in '" + spec + "' (expected host:port,host:port,...)");
        }
        return out;
    }

    public ClientOptions withCluster(List<InetSocketAddress> nodes) {
        return new ClientOptions(nodes, clusterId, deadline, attemptTimeout, connectTimeout, retry, maxInFlight, maxFrameBytes,
                ioThreads, leaderCheckInterval, tls);
    }

    public ClientOptions withClusterId(String id) {
        return new ClientOptions(cluster, id, deadline, attemptTimeout, connectTimeout, retry, maxInFlight, maxFrameBytes,
                ioThreads, leaderCheckInterval, tls);
    }

    /** Sets the deadline of every call; one attempt never waits longer than the deadline either. */
    public ClientOptions withDeadline(Duration d) {
        return new ClientOptions(cluster, clusterId, d, attemptTimeout, connectTimeout, retry, maxInFlight, maxFrameBytes,
                ioThreads, leaderCheckInterval, tls);
    }

    /**
     * Sets how long one attempt waits for an answer before the call tries again (default 1 s), so a
     * call aimed at a paused node still tries another within its deadline. The deadline bounds it.
     */
    public ClientOptions withAttemptTimeout(Duration d) {
        return new ClientOptions(cluster, clusterId, deadline, d, connectTimeout, retry, maxInFlight, maxFrameBytes,
                ioThreads, leaderCheckInterval, tls);
    }

    public ClientOptions withConnectTimeout(Duration d) {
        return new ClientOptions(cluster, clusterId, deadline, attemptTimeout, d, retry, maxInFlight, maxFrameBytes,
                ioThreads, leaderCheckInterval, tls);
    }

    public ClientOptions withRetry(RetryPolicy policy) {
        return new ClientOptions(cluster, clusterId, deadline, attemptTimeout, connectTimeout, policy, maxInFlight, maxFrameBytes,
                ioThreads, leaderCheckInterval, tls);
    }

    public ClientOptions withMaxInFlight(int n) {
        return new ClientOptions(cluster, clusterId, deadline, attemptTimeout, connectTimeout, retry, n, maxFrameBytes,
                ioThreads, leaderCheckInterval, tls);
    }

    public ClientOptions withMaxFrameBytes(int n) {
        return new ClientOptions(cluster, clusterId, deadline, attemptTimeout, connectTimeout, retry, maxInFlight, n,
                ioThreads, leaderCheckInterval, tls);
    }

    public ClientOptions withIoThreads(int n) {
        return new ClientOptions(cluster, clusterId, deadline, attemptTimeout, connectTimeout, retry, maxInFlight, maxFrameBytes,
                n, leaderCheckInterval, tls);
    }

    public ClientOptions withLeaderCheckInterval(Duration d) {
        return new ClientOptions(cluster, clusterId, deadline, attemptTimeout, connectTimeout, retry, maxInFlight, maxFrameBytes,
                ioThreads, d, tls);
    }

    /** Connects with TLS ({@link ClientTls}), or plaintext with {@link ClientTls#NONE}. */
    public ClientOptions withTls(ClientTls t) {
        return new ClientOptions(cluster, clusterId, deadline, attemptTimeout, connectTimeout, retry, maxInFlight, maxFrameBytes,
                ioThreads, leaderCheckInterval, t);
    }

    private static void positive(String name, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + d);
        }
    }
}
