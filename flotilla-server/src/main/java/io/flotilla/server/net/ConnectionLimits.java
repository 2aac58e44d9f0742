package io.flotilla.server.net;

import java.time.Duration;

/**
 * Bounds on what connections may hold on a node, so that no client (slow, idle or hostile) can
 * exhaust it (docs/security.md).
 *
 * @param maxConnections         accepted connections at once; beyond it a new client connection is
 *                               refused (authenticated peers are always admitted)
 * @param maxHandshakes          connections at once that have not completed their hello (and TLS
 *                               handshake)
 * @param clientIdleTimeout      a client connection with nothing in flight and no request for this long
 *                               is closed
 * @param maxInFlight            requests of one connection being handled at once; reading stops beyond it
 * @param maxOutputBufferBytes   answers of one connection waiting to be written; reading stops at half
 *                               of it, and a connection that still exceeds it is closed
 */
public record ConnectionLimits(int maxConnections, int maxHandshakes, Duration clientIdleTimeout, int maxInFlight,
                               int maxOutputBufferBytes) {
    public static final ConnectionLimits DEFAULTS = new ConnectionLimits(1024, 128, Duration.ofMinutes(5), 4096, 16 << 20);

    public ConnectionLimits {
        if (maxConnections < 1 || maxHandshakes < 1 || clientIdleTimeout.isNegative() || clientIdleTimeout.isZero()
                || maxInFlight < 1 || maxOutputBufferBytes < 1) {
            throw new IllegalArgumentException("connection limits must be positive");
        }
    }
}
