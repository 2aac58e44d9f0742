package io.flotilla.server.http;

import io.flotilla.client.NettyIo;
import io.flotilla.client.HostPort;
import io.flotilla.server.net.ServerTls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A node's HTTP port for operators: a few read-only GET routes (health, metrics, status, the cluster
 * page) on Netty's HTTP codec, over TLS when the node has it. Requests are small and bounded (no
 * body is accepted), connections are capped, and an idle connection is closed.
 */
public final class HttpPort implements AutoCloseable {
    /** Answers one GET; may complete on any thread. */
    @FunctionalInterface
    public interface Route {
        CompletableFuture<HttpAnswer> answer(QueryStringDecoder request);
    }

    /** Limits of the port: connections at once, and seconds a connection may stay idle. */
    public record Limits(int maxConnections, int idleSeconds) {
        public static final Limits DEFAULTS = new Limits(64, 30);
    }

    private static final int MAX_REQUEST_BYTES = 8192;

    private final Map<String, Route> routes;
    private final ServerTls tls;
    private final Limits limits;
    private final ChannelGroup open = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger connections = new AtomicInteger();
    private Channel listener;

    /** @param tls null for plaintext */
    public HttpPort(Map<String, Route> routes, ServerTls tls, Limits limits) {
        this.routes = Map.copyOf(routes);
        this.tls = tls;
        this.limits = limits;
    }

    /** Binds the port; a port in use fails with a one-line {@link IOException}. */
    public void bind(EventLoopGroup group, InetSocketAddress address) throws IOException {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NettyIo.serverChannel(group))
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (connections.incrementAndGet() > limits.maxConnections()) {
                            connections.decrementAndGet();
                            ch.close();
                            return;
                        }
                        ch.closeFuture().addListener(f -> connections.decrementAndGet());
                        open.add(ch);
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch));
                        }
                        ch.pipeline().addLast(new IdleStateHandler(0, 0, limits.idleSeconds(), TimeUnit.SECONDS),
                                new HttpServerCodec(MAX_REQUEST_BYTES, MAX_REQUEST_BYTES, MAX_REQUEST_BYTES),
                                new HttpObjectAggregator(MAX_REQUEST_BYTES),
                                new Router());
                    }
                });
        try {
            listener = b.bind(address).syncUninterruptibly().channel();
        } catch (Exception e) {
            throw new IOException("cannot listen on " + HostPort.format(address) + " (--http-port): " + (e instanceof BindException
                    ? "the port is in use or the address is not local" : e.getMessage()));
        }
    }

    /** The bound port (for tests that bind port 0). */
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    private final class Router extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            boolean head = request.method().equals(HttpMethod.HEAD);
            if (!request.decoderResult().isSuccess()) {
                send(ctx, HttpAnswer.text(400, "malformed request\n"), false, false);
                return;
            }
            if (!request.method().equals(HttpMethod.GET) && !head) {
                send(ctx, HttpAnswer.text(405, "only GET and HEAD\n"), keepAlive, false);
                return;
            }
            QueryStringDecoder query = new QueryStringDecoder(request.uri());
            Route route = routes.get(query.path());
            if (route == null) {
                send(ctx, HttpAnswer.text(404, "no such page: " + query.path() + " (try /health, /metrics, /status or /)\n"),
                        keepAlive, head);
                return;
            }
            CompletableFuture<HttpAnswer> answer;
            try {
                answer = route.answer(query);
            } catch (RuntimeException e) {
                answer = CompletableFuture.failedFuture(e);
            }
            answer.whenComplete((a, error) -> send(ctx, error == null ? a
                    : HttpAnswer.text(500, "internal error: " + error + "\n"), keepAlive, head));
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof IdleStateEvent) {
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a reset or a failed TLS handshake: nothing to answer
        }
    }

    private static void send(ChannelHandlerContext ctx, HttpAnswer answer, boolean keepAlive, boolean head) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(answer.status()),
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(answer.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, answer.contentType())
                .setInt(HttpHeaderNames.CONTENT_LENGTH, answer.body().length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        open.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
    }

}
