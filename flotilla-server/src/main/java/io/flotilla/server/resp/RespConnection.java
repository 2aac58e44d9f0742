package io.flotilla.server.resp;

import io.flotilla.core.Bytes;
import io.flotilla.server.net.ConnectionLimits;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.codec.CodecException;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.FullBulkStringRedisMessage;
import io.netty.handler.codec.redis.InlineCommandRedisMessage;
import io.netty.handler.codec.redis.RedisMessage;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One Redis client connection. Commands are answered in the order they came, however many are in
 * flight (pipelining): each takes its turn in a queue, and answers are written from its head as
 * they complete. Back-pressure is the native port's: reading stops while {@code maxInFlight}
 * commands wait for their answers or the socket holds half of {@code maxOutputBufferBytes}
 * unwritten, and a client that lets its unread answers pass {@code maxOutputBufferBytes} is
 * disconnected. Everything here runs on the connection's event loop.
 */
final class RespConnection extends ChannelInboundHandlerAdapter {
    /** An answer in its turn; {@code protocol} (2 or 3, 0 for no change) applies from this answer on, as HELLO's. */
    private record Turn(CompletableFuture<RespReply> reply, int protocol, boolean thenClose) {
    }

    /** A command read, waiting to start (see {@link #startReady}); its answer's turn is already taken. */
    private record Waiting(List<Bytes> args, RespCommands.Command command, RespCommands.Order order, CompletableFuture<RespReply> reply) {
    }

    private final RespCommands commands;
    private final RespNode node;
    private final RespEncoder encoder;
    private final ConnectionLimits limits;
    private final RespPort.Events events;
    private final ArrayDeque<Turn> turns = new ArrayDeque<>();
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    /** The kind of the commands started and not yet answered, and how many there are. */
    private RespCommands.Order running = RespCommands.Order.FREE;
    private int runningCount;
    private ChannelHandlerContext ctx;
    private RespClient client;
    private boolean closing;
    private boolean paused;

    RespConnection(RespCommands commands, RespNode node, RespEncoder encoder, ConnectionLimits limits, RespPort.Events events) {
        this.commands = commands;
        this.node = node;
        this.encoder = encoder;
        this.limits = limits;
        this.events = events;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.client = new RespClient(node, ctx.executor());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (!closing) {
                List<Bytes> args = arguments((RedisMessage) msg);
                if (!args.isEmpty()) { // Redis ignores empty commands
                    dispatch(args);
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /** A command is an array of bulk strings, or a line of words (an inline command, as typed into telnet). */
    private static List<Bytes> arguments(RedisMessage msg) {
        if (msg instanceof ArrayRedisMessage array) {
            List<Bytes> args = new ArrayList<>(array.children().size());
            for (RedisMessage child : array.children()) {
                if (!(child instanceof FullBulkStringRedisMessage bulk) || bulk.isNull()) {
                    throw new RespProtocolException("expected a command: an array of bulk strings");
                }
                args.add(Bytes.wrap(ByteBufUtil.getBytes(bulk.content())));
            }
            return args;
        }
        if (msg instanceof InlineCommandRedisMessage inline) {
            return inline.content().isBlank() ? List.of()
                    : java.util.Arrays.stream(inline.content().trim().split("\\s+")).map(Bytes::utf8).toList();
        }
        throw new RespProtocolException("expected a command, got " + msg.getClass().getSimpleName());
    }

    private void dispatch(List<Bytes> args) {
        var known = commands.lookup(args);
        if (known.isEmpty()) {
            answer(RespCommands.unknown(args));
            return;
        }
        RespCommands.Command command = known.get();
        var arity = command.arityError(args);
        if (arity.isPresent()) {
            answer(arity.get());
            return;
        }
        switch (command.name()) {
            case "hello" -> hello(args);
            case "quit" -> {
                closing = true;
                take(new Turn(CompletableFuture.completedFuture(RespReply.OK), 0, true));
            }
            default -> {
                CompletableFuture<RespReply> reply = new CompletableFuture<>();
                take(new Turn(reply, 0, false));
                waiting.add(new Waiting(args, command, command.order(args), reply));
                startReady();
            }
        }
    }

    /**
     * Starts waiting commands in the order they came, together as far as Redis's order of a
     * connection's commands allows: reads with reads, writes with writes (the log keeps their
     * order), a command that reads and then writes alone. A read after a write starts once the
     * write is answered, so it sees it; a write after a read likewise, so the read cannot see it.
     */
    private void startReady() {
        while (!waiting.isEmpty()) {
            Waiting w = waiting.peek();
            RespCommands.Order order = w.order();
            boolean free = order == RespCommands.Order.FREE;
            if (!free && runningCount > 0 && (order != running || order == RespCommands.Order.ALONE)) {
                return;
            }
            waiting.poll();
            if (!free) {
                running = order;
                runningCount++;
            }
            start(w).whenComplete((reply, error) -> {
                if (!free) {
                    ctx.executor().execute(() -> {
                        runningCount--;
                        startReady();
                    });
                }
                if (error != null) {
                    w.reply().complete(RespReply.error("internal error: " + error));
                } else {
                    w.reply().complete(reply);
                }
            });
        }
    }

    private CompletableFuture<RespReply> start(Waiting w) {
        boolean localRead = client.readonly() && w.order() == RespCommands.Order.READ;
        var moved = w.order() != RespCommands.Order.FREE && !localRead ? node.redirection(w.args().get(1)) : java.util.Optional.<RespReply>empty();
        try {
            return moved.isPresent() ? CompletableFuture.completedFuture(moved.get()) : w.command().run(w.args(), client);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** HELLO [protover [AUTH user pass] [SETNAME name]]: RESP2 or RESP3 from this answer on. */
    private void hello(List<Bytes> args) {
        int protocol = encoder.protocol();
        if (args.size() > 1) {
            String version = args.get(1).utf8();
            if (!version.equals("2") && !version.equals("3")) {
                answer(new RespReply.Error("NOPROTO", "unsupported protocol version"));
                return;
            }
            protocol = Integer.parseInt(version);
        }
        for (int i = 2; i < args.size(); i++) {
            String option = args.get(i).utf8().toUpperCase(java.util.Locale.ROOT);
            if (option.equals("SETNAME") && i + 1 < args.size()) {
                client.name(args.get(++i).utf8());
            } else if (option.equals("AUTH")) {
                answer(RespReply.error("AUTH is not supported: Flotilla authenticates clients by TLS certificate (--tls-client-auth)"));
                return;
            } else {
                answer(RespReply.error("syntax error in HELLO option '" + option + "'"));
                return;
            }
        }
        take(new Turn(CompletableFuture.completedFuture(commands.hello(client, protocol)), protocol, false));
    }

    private void answer(RespReply reply) {
        take(new Turn(CompletableFuture.completedFuture(reply), 0, false));
    }

    private void take(Turn turn) {
        turns.add(turn);
        updateReading();
        if (turn.reply().isDone()) {
            writeReady();
        } else {
            turn.reply().whenComplete((r, e) -> ctx.executor().execute(this::writeReady));
        }
    }

    /** Writes the answers at the head of the queue that are complete, in order. */
    private void writeReady() {
        boolean wrote = false;
        while (!turns.isEmpty() && turns.peek().reply().isDone()) {
            Turn turn = turns.poll();
            RespReply reply = turn.reply().handle((r, e) -> e == null ? r : RespReply.error("internal error: " + e)).join();
            if (turn.protocol() != 0) {
                encoder.protocol(turn.protocol());
            }
            wrote = true;
            if (turn.thenClose()) {
                turns.clear();
                ctx.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            ctx.write(reply);
        }
        if (wrote) {
            ctx.flush();
            ChannelOutboundBuffer unwritten = ctx.channel().unsafe().outboundBuffer();
            if (unwritten != null && unwritten.totalPendingWriteBytes() > limits.maxOutputBufferBytes()) {
                closing = true;
                events.closedSlowReader(ctx.channel(), "its unread answers take " + unwritten.totalPendingWriteBytes()
                        + " bytes, over --max-connection-buffer-bytes (" + limits.maxOutputBufferBytes() + ")");
                ctx.close();
                return;
            }
        }
        updateReading();
    }

    /** Reads while few enough commands are in flight and the socket takes the answers. */
    private void updateReading() {
        if (turns.size() >= limits.maxInFlight()) {
            paused = true;
        } else if (turns.size() <= limits.maxInFlight() / 2) {
            paused = false;
        }
        Channel ch = ctx.channel();
        boolean read = !closing && !paused && ch.isWritable();
        if (read != ch.config().isAutoRead()) {
            ch.config().setAutoRead(read);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        updateReading();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent && turns.isEmpty()) {
            events.closedIdle(ctx.channel());
            ctx.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            ctx.close(); // the client went away
            return;
        }
        Throwable c = cause instanceof CodecException && cause.getCause() instanceof RespProtocolException p ? p : cause;
        String why = c instanceof RespProtocolException || c instanceof CodecException ? c.getMessage() : c.toString();
        events.closedForBadInput(ctx.channel(), why);
        closing = true;
        turns.clear();
        ctx.writeAndFlush(RespReply.error("Protocol error: " + why)).addListener(ChannelFutureListener.CLOSE);
    }
}
