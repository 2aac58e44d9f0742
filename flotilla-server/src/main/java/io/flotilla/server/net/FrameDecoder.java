package io.flotilla.server.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

/**
 * Cuts the byte stream into frames: a 4-byte big-endian length, then that many bytes. A length
 * above the maximum fails at once (before anything of that size is allocated) and the connection
 * is closed by the handler after it, unless {@link #refuseOversizedRequests()} was called: then the
 * frame's request id is read, its bytes are skipped as they arrive, and an {@link Oversized} goes
 * up the pipeline instead, so that the request can be refused and the connection kept.
 */
final class FrameDecoder extends LengthFieldBasedFrameDecoder {
    /** A request frame over the limit, whose bytes were (or are being) skipped. */
    record Oversized(long requestId, long length) {
    }

    private static final int LENGTH_BYTES = 4;
    private static final int REQUEST_ID_BYTES = 8;

    private final int maxFrameBytes;
    private boolean refuseOversized;
    private long toSkip;
    /** While set, frames stay in the buffer: the connection is not reading (back-pressure). */
    private boolean paused;

    FrameDecoder(int maxFrameBytes) {
        super(maxFrameBytes, 0, LENGTH_BYTES, 0, LENGTH_BYTES, true);
        this.maxFrameBytes = maxFrameBytes;
    }

    /** From now on, frames start with a request id: answer oversized ones rather than fail. */
    void refuseOversizedRequests() {
        refuseOversized = true;
    }

    /**
     * Stops handing frames on, including those already read: stopping auto-read alone would still
     * pass on every request of the last read, hundreds of them if they are small.
     */
    void pause() {
        paused = true;
    }

    /** Hands on the frames that arrived while paused; {@code ctx} is this decoder's context. */
    void resume(ChannelHandlerContext ctx) throws Exception {
        paused = false;
        if (actualReadableBytes() > 0) {
            channelRead(ctx, Unpooled.EMPTY_BUFFER); // decodes what is buffered: no new bytes may ever come
            channelReadComplete(ctx);
        }
    }

    @Override
    protected Object decode(ChannelHandlerContext ctx, ByteBuf in) throws Exception {
        if (paused) {
            return null;
        }
        if (toSkip > 0) {
            int skipped = (int) Math.min(toSkip, in.readableBytes());
            in.skipBytes(skipped);
            toSkip -= skipped;
            return null;
        }
        if (refuseOversized && in.readableBytes() >= LENGTH_BYTES) {
            long length = in.getUnsignedInt(in.readerIndex());
            if (length > maxFrameBytes) {
                if (length < REQUEST_ID_BYTES) {
                    return super.decode(ctx, in); // cannot happen with a sane limit; fail as before
                }
                if (in.readableBytes() < LENGTH_BYTES + REQUEST_ID_BYTES) {
                    return null; // wait for the request id
                }
                long requestId = in.getLong(in.readerIndex() + LENGTH_BYTES);
                toSkip = LENGTH_BYTES + length;
                int skipped = (int) Math.min(toSkip, in.readableBytes());
                in.skipBytes(skipped);
                toSkip -= skipped;
                return new Oversized(requestId, length);
            }
        }
        return super.decode(ctx, in);
    }

    /** Part of a frame has arrived and the rest has not (or is being skipped); never while paused, when it is ours to read. */
    boolean hasPartialFrame() {
        return !paused && (actualReadableBytes() > 0 || toSkip > 0);
    }
}
