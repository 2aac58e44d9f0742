package io.flotilla.server.net;

import java.nio.file.Path;

/**
 * The node's TLS material, PEM files (docs/security.md); {@link #PLAINTEXT} for none.
 *
 * @param cert       this node's certificate chain
 * @param key        its private key (PKCS#8)
 * @param ca         the cluster's CA certificate(s): peers (and clients, with clientAuth) must present a
 *                   certificate it signed
 * @param clientAuth clients must present a certificate too
 */
public record TlsConfig(Path cert, Path key, Path ca, boolean clientAuth) {
    public static final TlsConfig PLAINTEXT = new TlsConfig(null, null, null, false);

    public boolean enabled() {
        return cert != null;
    }
}
