package io.flotilla.server.net;

import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

/**
 * Cuts the byte stream into frames: a 4-byte big-endian length, then that many bytes. A length
 * above the maximum fails at once (before anything of that size is allocated) and the connection
 * is closed by the handler after it.
 */
final class FrameDecoder extends LengthFieldBasedFrameDecoder {
    FrameDecoder(int maxFrameBytes) {
        super(maxFrameBytes, 0, 4, 0, 4, true);
    }

    /** Part of a frame has arrived and the rest has not. */
    boolean hasPartialFrame() {
        return actualReadableBytes() > 0;
    }
}
