package io.flotilla.server.resp;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.redis.ArrayHeaderRedisMessage;
import io.netty.handler.codec.redis.BulkStringHeaderRedisMessage;
import io.netty.util.ReferenceCountUtil;

/**
 * Bounds the bytes of one command before Netty's bulk-string aggregator gathers them (it would take
 * up to 512 MB per argument): the arguments of a command together may declare at most
 * {@code maxCommandBytes}, counting {@link #PER_ARGUMENT} bytes for each besides its own, so that
 * the write it becomes (its log entry: a length per string and the session) fits the frames peers
 * replicate it in. Sits between the decoder, which emits each string's declared length before its
 * bytes, and the aggregators.
 */
final class RespCommandBounds extends ChannelInboundHandlerAdapter {
    /** What the log's encoding adds to each argument at most (a length, and a count per pair). */
    static final int PER_ARGUMENT = 8;
    private final int maxCommandBytes;
    private long declared;

    RespCommandBounds(int maxCommandBytes) {
        this.maxCommandBytes = maxCommandBytes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ArrayHeaderRedisMessage) {
            declared = 0; // a new command (arrays do not nest in a command: the aggregator refuses them)
        } else if (msg instanceof BulkStringHeaderRedisMessage header) {
            declared += header.bulkStringLength() + PER_ARGUMENT;
            if (declared > maxCommandBytes) {
                ReferenceCountUtil.release(msg);
                throw new RespProtocolException("invalid bulk length: the command's arguments exceed " + maxCommandBytes
                        + " bytes (--max-frame-bytes, less room for the log's framing)");
            }
        }
        ctx.fireChannelRead(msg);
    }
}
