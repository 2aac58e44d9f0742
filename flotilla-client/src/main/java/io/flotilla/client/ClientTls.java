package io.flotilla.client;

import java.nio.file.Path;

/**
 * A client's TLS settings, PEM files: {@link #NONE} for plaintext. With them, the client trusts only
 * {@code ca} and accepts only node certificates ({@code CN=node-<id>}); {@code cert} and {@code key}
 * are this client's own certificate, for clusters that require one.
 *
 * @param ca   the cluster's CA certificate, or null for plaintext
 * @param cert this client's certificate, or null to present none
 * @param key  the private key of {@code cert} (PKCS#8), or null
 */
public record ClientTls(Path ca, Path cert, Path key) {
    public static final ClientTls NONE = new ClientTls(null, null, null);

    public ClientTls {
        if ((cert == null) != (key == null)) {
            throw new IllegalArgumentException("a TLS client certificate needs its key and the key its certificate: give both or neither");
        }
        if (ca == null && cert != null) {
            throw new IllegalArgumentException("a TLS client certificate needs the cluster's CA certificate too");
        }
    }

    /** TLS with only a CA: the client checks the nodes and presents no certificate of its own. */
    public static ClientTls trusting(Path ca) {
        return new ClientTls(ca, null, null);
    }

    public boolean enabled() {
        return ca != null;
    }

    /** Loads the files; a bad one fails with one {@link IllegalArgumentException} line naming it. Null if plaintext. */
    NodeTls load() {
        return enabled() ? NodeTls.client(ca, cert, key) : null;
    }
}
