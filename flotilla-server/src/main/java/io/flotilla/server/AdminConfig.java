package io.flotilla.server;

import java.nio.file.Path;

/**
 * What a node serves beside its native port, for operators and for Redis clients.
 *
 * @param httpPort     the HTTP port for /health, /metrics, /status and the cluster page; 0 for none
 * @param maxHealthyLag entries the applied index may trail the leader's commit index before /health
 *                     answers 503
 * @param restore      a backup ({@code flotilla-client snapshot save}) that seeds this founder's empty
 *                     data directory before it starts; null for none
 * @param respPort     the Redis protocol port; 0 for none
 * @param respRedirect on a follower, the Redis port answers -MOVED to the leader's instead of relaying
 */
public record AdminConfig(int httpPort, long maxHealthyLag, Path restore, int respPort, boolean respRedirect) {
    /** No HTTP or Redis port, the default lag, nothing to restore: what tests use unless they say otherwise. */
    public static final AdminConfig NONE = new AdminConfig(0, 10_000, null, 0, false);

    public AdminConfig {
        if (httpPort < 0 || httpPort > 65535) {
            throw new IllegalArgumentException("--http-port " + httpPort + " is out of range (0-65535)");
        }
        if (respPort < 0 || respPort > 65535) {
            throw new IllegalArgumentException("--resp-port " + respPort + " is out of range (0-65535)");
        }
        if (maxHealthyLag < 0) {
            throw new IllegalArgumentException("--health-max-lag must not be negative, got " + maxHealthyLag);
        }
    }

    public AdminConfig withHttpPort(int port) {
        return new AdminConfig(port, maxHealthyLag, restore, respPort, respRedirect);
    }

    public AdminConfig withRestore(Path backup) {
        return new AdminConfig(httpPort, maxHealthyLag, backup, respPort, respRedirect);
    }

    public AdminConfig withResp(int port, boolean redirect) {
        return new AdminConfig(httpPort, maxHealthyLag, restore, port, redirect);
    }
}
