package io.flotilla.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for test nodes. A node keeps its port across restarts, so a port must not be one the kernel
 * may hand to an outgoing connection (a client's, a proxy's) while the node is down: ports come from
 * outside the ephemeral range, are checked free, and are never handed out twice in one JVM.
 */
public final class TestPorts {
    private static final int LOWEST = 10_000;
    private static final Set<Integer> handedOut = new HashSet<>();

    private TestPorts() {
    }

    /** A free port outside the kernel's ephemeral range, not given to anyone else in this JVM. */
    public static synchronized int next() {
        int[] range = ephemeralRange();
        int below = Math.max(0, range[0] - LOWEST);           // [LOWEST, range[0])
        int above = Math.max(0, 65_535 - range[1]);            // (range[1], 65535]
        if (below + above < 100) {
            throw new IllegalStateException("no ports outside the ephemeral range " + range[0] + "-" + range[1]);
        }
        for (int attempt = 0; attempt < 1_000; attempt++) {
            int pick = ThreadLocalRandom.current().nextInt(below + above);
            int port = pick < below ? LOWEST + pick : range[1] + 1 + (pick - below);
            if (!handedOut.contains(port) && bindable(port)) {
                handedOut.add(port);
                return port;
            }
        }
        throw new IllegalStateException("no free port found outside the ephemeral range after 1,000 tries");
    }

    /** Hands out {@code port} if it is free and not given to anyone else in this JVM. */
    public static synchronized boolean claim(int port) {
        if (port < LOWEST || port > 65_535 || handedOut.contains(port) || !bindable(port)) {
            return false;
        }
        handedOut.add(port);
        return true;
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException inUse) {
            return false;
        }
    }

    private static int[] ephemeralRange() {
        try {
            String[] parts = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
            return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
        } catch (IOException | RuntimeException notLinux) {
            return new int[] {32_768, 60_999}; // the Linux default; other systems use 49152-65535
        }
    }
}
