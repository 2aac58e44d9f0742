package io.flotilla.server.resp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/**
 * Writes {@link RespReply} values in the connection's protocol. Netty's RedisEncoder knows only
 * RESP2; RESP3 (negotiated by HELLO 3) adds the null and the map, so the replies are written here.
 * One instance per connection: {@link #protocol} changes when HELLO is answered, on the event loop,
 * so every reply after HELLO's own is in the new form.
 */
final class RespEncoder extends MessageToByteEncoder<RespReply> {
    private static final byte[] CRLF = {'\r', '\n'};
    private int protocol = 2;

    RespEncoder() {
        super(RespReply.class);
    }

    /** From the next reply written on; call on the connection's event loop. */
    void protocol(int version) {
        this.protocol = version;
    }

    int protocol() {
        return protocol;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, RespReply reply, ByteBuf out) {
        write(reply, out);
    }

    void write(RespReply reply, ByteBuf out) {
        if (reply instanceof RespReply.Simple s) {
            line(out, '+', s.text());
        } else if (reply instanceof RespReply.Error e) {
            line(out, '-', e.word() + " " + e.message());
        } else if (reply instanceof RespReply.Int i) {
            line(out, ':', Long.toString(i.value()));
        } else if (reply instanceof RespReply.Bulk b) {
            line(out, '$', Integer.toString(b.value().length()));
            out.writeBytes(b.value().unsafeArray()).writeBytes(CRLF);
        } else if (reply instanceof RespReply.Null) {
            out.writeBytes(protocol >= 3 ? new byte[] {'_', '\r', '\n'} : new byte[] {'$', '-', '1', '\r', '\n'});
        } else if (reply instanceof RespReply.Array a) {
            line(out, '*', Integer.toString(a.items().size()));
            a.items().forEach(item -> write(item, out));
        } else if (reply instanceof RespReply.Map m) {
            line(out, protocol >= 3 ? '%' : '*', Integer.toString(protocol >= 3 ? m.entries().size() : 2 * m.entries().size()));
            for (RespReply.Entry e : m.entries()) {
                write(e.key(), out);
                write(e.value(), out);
            }
        } else {
            throw new AssertionError(reply);
        }
    }

    /** A one-line form; a line break inside would end the reply early, so it becomes a space. */
    private static void line(ByteBuf out, char type, String text) {
        out.writeByte(type);
        ByteBufUtil.writeUtf8(out, text.indexOf('\r') < 0 && text.indexOf('\n') < 0 ? text : text.replace('\r', ' ').replace('\n', ' '));
        out.writeBytes(CRLF);
    }
}
