package io.flotilla.client;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The one spelling of an address, {@code host:port} with an IPv6 host in brackets
 * ({@code [::1]:5001}), used wherever one is printed, parsed, or sent as text (the leader's address
 * in NOT_LEADER, a member's address in the configuration).
 */
public final class HostPort {
    private HostPort() {
    }

    public static String format(String host, int port) {
        return (host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }

    /** The host as given (never a reverse lookup), and the port. */
    public static String format(InetSocketAddress address) {
        return format(address.getHostString(), address.getPort());
    }

    /** A socket's address as above; anything else (an embedded channel's) as it prints itself. */
    public static String format(SocketAddress address) {
        return address instanceof InetSocketAddress a ? format(a) : String.valueOf(address);
    }

    /**
     * An unresolved address from {@code host:port} or {@code [v6-host]:port}; an unbracketed IPv6 host
     * ({@code ::1:5001}) reads as before brackets were written: the port is after the last colon.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static InetSocketAddress parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("'" + text + "' is not host:port");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not host:port");
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' is not host:port");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range");
        }
        return InetSocketAddress.createUnresolved(host, port);
    }
}
