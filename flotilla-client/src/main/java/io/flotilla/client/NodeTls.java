package io.flotilla.client;

import io.netty.channel.Channel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * TLS for connections to nodes: trusts only the cluster's CA, and accepts only a node certificate
 * at the other end. A node's identity is its id, in the certificate's subject: {@code CN=node-<id>}
 * (docs/protocol.md, "TLS and peer identity"). Host names are not verified: nodes are addressed by
 * whatever address reaches them, and what matters is which node answers.
 */
public final class NodeTls {
    /** A node certificate's subject CN is this prefix and the node id; any other CN is not a node. */
    public static final String NODE_CN_PREFIX = "node-";

    private final SslContext context;
    /** Whether this side presents a certificate: without one, a refused handshake means the node requires one. */
    private final boolean presentsCertificate;

    private NodeTls(SslContext context, boolean presentsCertificate) {
        this.context = context;
        this.presentsCertificate = presentsCertificate;
    }

    /**
     * A client context trusting only {@code ca}, presenting {@code cert} and {@code key} if given (both or
     * neither). A bad file fails with one {@link IllegalArgumentException} line naming it.
     */
    public static NodeTls client(Path ca, Path cert, Path key) {
        List<X509Certificate> trusted = Pem.certificates(ca, "CA certificate");
        SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(provider()).trustManager(trusted)
                .endpointIdentificationAlgorithm(null); // identity is the node id in the certificate, not a host name
        if (cert != null) {
            List<X509Certificate> chain = Pem.certificates(cert, "certificate");
            PrivateKey privateKey = Pem.privateKey(key, "private key");
            Pem.checkPair(privateKey, key, chain.get(0), cert);
            builder.keyManager(privateKey, chain);
        }
        return of(builder, cert != null);
    }

    /**
     * BoringSSL (netty-tcnative) when it is on the class path, as it is for the nodes and the command
     * line: it costs a fraction of the JDK engine's CPU per record, which matters on a node's cores.
     */
    public static SslProvider provider() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** A context built by the caller (a node's own outbound context). */
    public static NodeTls of(SslContextBuilder builder, boolean presentsCertificate) {
        try {
            return new NodeTls(builder.build(), presentsCertificate);
        } catch (SSLException | RuntimeException e) {
            throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage());
        }
    }

    SslHandler newHandler(Channel ch, InetSocketAddress address) {
        return context.newHandler(ch.alloc(), address.getHostString(), address.getPort());
    }

    /** Adds the TLS handler first in {@code ch}'s pipeline. */
    public void addTo(Channel ch, InetSocketAddress address) {
        ch.pipeline().addFirst("tls", newHandler(ch, address));
    }

    /** The id that the certificate the other end of {@code ch} presented names, if it is a node certificate. */
    public static OptionalInt peerNodeId(Channel ch) {
        SslHandler tls = ch.pipeline().get(SslHandler.class);
        return tls == null ? OptionalInt.empty() : peerNodeId(tls.engine().getSession());
    }

    public static OptionalInt peerNodeId(SSLSession session) {
        return peerCertificate(session).map(NodeTls::nodeId).orElse(OptionalInt.empty());
    }

    /** The id in a subject {@code CN=node-<id>}; empty for any other certificate. */
    public static OptionalInt nodeId(X509Certificate cert) {
        String cn = commonName(cert);
        if (cn == null || !cn.startsWith(NODE_CN_PREFIX)) {
            return OptionalInt.empty();
        }
        String digits = cn.substring(NODE_CN_PREFIX.length());
        if (digits.isEmpty() || digits.length() > 9 || !digits.chars().allMatch(c -> c >= '0' && c <= '9') || digits.startsWith("0")) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(Integer.parseInt(digits));
    }

    /** The subject's CN, or null. */
    public static String commonName(X509Certificate cert) {
        try {
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdn.getValue());
                }
            }
        } catch (InvalidNameException e) {
            return null;
        }
        return null;
    }

    /** The certificate the other end presented (and the CA vouched for), if any. */
    public static java.util.Optional<X509Certificate> peerCertificate(SSLSession session) {
        try {
            Certificate[] chain = session.getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x ? java.util.Optional.of(x) : java.util.Optional.empty();
        } catch (SSLPeerUnverifiedException none) {
            return java.util.Optional.empty();
        }
    }

    /**
     * Why the node at the other end of {@code ch} is not node {@code expected} (0: any node), or null if it
     * is. For messages: "presented CN=client, not a node certificate".
     */
    public static String notNode(Channel ch, int expected) {
        SslHandler tls = ch.pipeline().get(SslHandler.class);
        java.util.Optional<X509Certificate> cert = tls == null ? java.util.Optional.empty() : peerCertificate(tls.engine().getSession());
        if (cert.isEmpty()) {
            return "it presented no certificate";
        }
        OptionalInt id = nodeId(cert.get());
        if (id.isEmpty()) {
            return "its certificate (CN=" + commonName(cert.get()) + ") is not a node certificate (CN=" + NODE_CN_PREFIX + "<id>)";
        }
        if (expected != 0 && id.getAsInt() != expected) {
            return "its certificate names node " + id.getAsInt() + ", not node " + expected;
        }
        return null;
    }

    /** Whether {@code error} came from TLS (a failed handshake, a TLS alert, bytes that are not TLS). */
    public static boolean isTlsFailure(Throwable error) {
        for (Throwable e = error; e != null; e = e.getCause()) {
            if (e instanceof SSLException || e instanceof NotSslRecordException) {
                return true;
            }
        }
        return false;
    }

    /** As {@link #describeFailure(Throwable, String)}, knowing whether this side presented a certificate. */
    public String describe(Throwable error, String where) {
        String lower = String.valueOf(error).toLowerCase(Locale.ROOT) + " " + causes(error);
        if (!presentsCertificate && (lower.contains("bad_certificate") || lower.contains("certificate_required"))) {
            return where + " requires a client certificate signed by the cluster's CA (give --tls-cert and --tls-key)";
        }
        return describeFailure(error, where);
    }

    /**
     * Every message in {@code error}'s cause chain, lower case: the TLS engines differ in where they
     * say why (BoringSSL wraps the JDK's PKIX failure in "General OpenSslEngine problem").
     */
    public static String causes(Throwable error) {
        StringBuilder out = new StringBuilder();
        for (Throwable c = error; c != null && out.length() < 4096; c = c.getCause() == c ? null : c.getCause()) {
            out.append(c.getMessage()).append('\n');
        }
        return out.toString().toLowerCase(Locale.ROOT);
    }

    /** One line for a TLS failure talking to {@code where}, saying what to check. */
    public static String describeFailure(Throwable error, String where) {
        Throwable e = error;
        while ((e instanceof DecoderException || e.getMessage() == null) && e.getCause() != null) {
            e = e.getCause();
        }
        String message = String.valueOf(e.getMessage());
        String lower = causes(error);
        if (e instanceof NotSslRecordException || lower.contains("not an ssl/tls record")) {
            return where + " does not speak TLS: the node runs without TLS (leave out the TLS options), or this is not a Flotilla node";
        }
        if (lower.contains("certificate_required") || lower.contains("empty client certificate")) {
            return where + " requires a client certificate signed by the cluster's CA (give --tls-cert and --tls-key)";
        }
        if (lower.contains("unknown_ca") || lower.contains("bad_certificate") || lower.contains("certificate_unknown")) {
            return where + " does not accept this client's certificate (not signed by the cluster's CA?): " + message;
        }
        if (lower.contains("pkix") || lower.contains("unable to find valid certification path")
                || lower.contains("signature check failed")) {
            return "the certificate of " + where + " is not signed by the trusted CA (--tls-ca)";
        }
        if (e instanceof ClosedChannelException || lower.contains("closed")) {
            return where + " closed the connection during the TLS handshake (a node without TLS?)";
        }
        return "TLS with " + where + " failed: " + message;
    }
}
