package io.flotilla.server.net;

import io.flotilla.client.NodeTls;
import io.flotilla.client.Pem;
import io.netty.channel.Channel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.OptionalInt;
import javax.net.ssl.SSLException;

/**
 * A node's TLS, loaded once from its {@link TlsConfig}: the context for its port (every connection,
 * peers and clients alike) and the one for connections it opens (peer links, relays to the leader,
 * the --join probe), both presenting the node's certificate and trusting only the cluster's CA.
 *
 * <p>Identity is the node id in the certificate's subject, {@code CN=node-<id>} ({@link NodeTls}):
 * a connection that asks to act as node N (a PEER or FORWARD hello) must have presented a
 * certificate the CA signed for node N. Client certificates carry another CN and can never act as a
 * node. Host names are not verified.
 */
public final class ServerTls {
    private final SslContext server;
    private final NodeTls outbound;
    private final int selfId;

    private ServerTls(SslContext server, NodeTls outbound, int selfId) {
        this.server = server;
        this.outbound = outbound;
        this.selfId = selfId;
    }

    /**
     * Reads the files; a missing or invalid one, or a certificate that is not this node's, fails with a
     * one-line {@link IOException}. Null for {@link TlsConfig#PLAINTEXT}.
     */
    public static ServerTls load(TlsConfig config, int selfId) throws IOException {
        if (!config.enabled()) {
            return null;
        }
        try {
            List<X509Certificate> chain = Pem.certificates(config.cert(), "certificate");
            PrivateKey key = Pem.privateKey(config.key(), "private key");
            List<X509Certificate> ca = Pem.certificates(config.ca(), "CA certificate");
            Pem.checkPair(key, config.key(), chain.get(0), config.cert());
            OptionalInt named = NodeTls.nodeId(chain.get(0));
            if (named.isEmpty() || named.getAsInt() != selfId) {
                throw new IllegalArgumentException("TLS certificate " + config.cert() + " is for CN=" + NodeTls.commonName(chain.get(0))
                        + ", not this node: node " + selfId + " needs a certificate for CN=" + NodeTls.NODE_CN_PREFIX + selfId);
            }
            SslContext server = SslContextBuilder.forServer(key, chain).sslProvider(NodeTls.provider()).trustManager(ca)
                    .clientAuth(config.clientAuth() ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL).build();
            NodeTls outbound = NodeTls.of(SslContextBuilder.forClient().sslProvider(NodeTls.provider()).trustManager(ca).keyManager(key, chain)
                    .endpointIdentificationAlgorithm(null), true);
            return new ServerTls(server, outbound, selfId);
        } catch (IllegalArgumentException | SSLException e) {
            throw new IOException(e.getMessage());
        }
    }

    public SslHandler newHandler(Channel ch) {
        return server.newHandler(ch.alloc());
    }

    /** For the connections this node opens to other nodes. */
    public NodeTls outbound() {
        return outbound;
    }

    /**
     * Why a connection may not act as node {@code claimed} (a PEER or FORWARD hello), or null if its
     * certificate names that node. Ids the configuration does not name (yet) are accepted: a node
     * that lags behind a membership change must still accept a new leader it has not heard of.
     */
    String identityRefusal(Channel ch, int claimed) {
        String why = NodeTls.notNode(ch, claimed);
        if (why == null && claimed == selfId) {
            why = "it claims this node's own id";
        }
        return why == null ? null : "refused to act as node " + claimed + ": " + why;
    }
}
