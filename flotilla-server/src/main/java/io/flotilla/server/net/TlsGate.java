package io.flotilla.server.net;

import io.flotilla.client.HostPort;
import io.flotilla.client.NodeTls;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.WireCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First on every connection to a node with TLS. If the first bytes are TLS, it puts the TLS handler
 * in its place; if they are not (a client or node without TLS sent its hello in plaintext), it
 * answers with a plaintext hello reply that refuses the connection with one readable line, then
 * closes: the other side then says why instead of "connection closed".
 */
final class TlsGate extends ByteToMessageDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(NodeServer.class);
    /** The smallest TLS record header; a hello frame (4-byte length, then the magic) is longer too. */
    private static final int SNIFF_BYTES = 5;
    static final String PLAINTEXT_REFUSAL = "this node requires TLS: connect with the cluster's CA certificate (--tls-ca)";

    private final ServerTls tls;
    private final int nodeId;
    private final String clusterId;
    private final RateLimitedLog warnings;

    TlsGate(ServerTls tls, int nodeId, String clusterId, RateLimitedLog warnings) {
        this.tls = tls;
        this.nodeId = nodeId;
        this.clusterId = clusterId;
        this.warnings = warnings;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < SNIFF_BYTES) {
            return;
        }
        if (SslHandler.isEncrypted(in, false)) {
            ctx.pipeline().replace(this, "tls", tls.newHandler(ctx.channel()));
            ctx.pipeline().addAfter("tls", "tls-failures", new Failures());
            return; // ByteToMessageDecoder hands what it holds to the TLS handler
        }
        in.skipBytes(in.readableBytes());
        warnings.warn(LOG, "closing plaintext connection from {}: this node requires TLS", HostPort.format(ctx.channel().remoteAddress()));
        // Protocol version 1: every client version reads it.
        ByteBuf reply = Unpooled.wrappedBuffer(WireCodec.encodeHelloReply(
                new Hello.Reply(false, nodeId, clusterId, PLAINTEXT_REFUSAL, Optional.empty(), 1)));
        ctx.writeAndFlush(Unpooled.wrappedBuffer(Unpooled.copyInt(reply.readableBytes()), reply))
                .addListener(ChannelFutureListener.CLOSE);
    }

    /** Why a handshake failed, from this node's side. */
    static String describe(Throwable error) {
        Throwable e = error;
        while ((e instanceof io.netty.handler.codec.DecoderException || e.getMessage() == null) && e.getCause() != null) {
            e = e.getCause();
        }
        String message = String.valueOf(e.getMessage());
        String lower = NodeTls.causes(error);
        if (lower.contains("received fatal alert")) {
            return "the other side refused this node's certificate (" + message + "): it trusts another CA?";
        }
        if (lower.contains("empty client certificate") || lower.contains("certificate_required")) {
            return "it presented no certificate, and --tls-client-auth requires one";
        }
        if (lower.contains("pkix") || lower.contains("certification path") || lower.contains("signature check failed")) {
            return "its certificate is not signed by the cluster's CA";
        }
        if (e instanceof java.nio.channels.ClosedChannelException || lower.contains("closed")) {
            return "it closed the connection during the handshake";
        }
        return message;
    }

    /** Failed handshakes (wrong CA, no certificate where one is required): one rate-limited line, then close. */
    private final class Failures extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
                warnings.warn(LOG, "TLS handshake with {} failed: {}", HostPort.format(ctx.channel().remoteAddress()),
                        describe(done.cause()));
                ctx.close();
                return;
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (NodeTls.isTlsFailure(cause)) {
                ctx.close(); // reported by the handshake event, or a broken session: nothing more to say
                return;
            }
            ctx.fireExceptionCaught(cause);
        }
    }
}
