package io.flotilla.server.resp;

import io.flotilla.core.Bytes;
import java.util.List;

/**
 * A reply on the Redis protocol port, one record per form Redis uses. The {@link RespEncoder} writes
 * it in whichever protocol the connection negotiated (RESP2 or RESP3), so commands never care which.
 */
sealed interface RespReply {
    /** {@code +text}: a short status such as OK or PONG. */
    record Simple(String text) implements RespReply {
    }

    /** {@code -WORD message}: {@code word} is Redis's error code (ERR, WRONGTYPE, MOVED, TRYAGAIN...). */
    record Error(String word, String message) implements RespReply {
    }

    /** {@code :value}. */
    record Int(long value) implements RespReply {
    }

    /** {@code $length}: a binary-safe string. */
    record Bulk(Bytes value) implements RespReply {
    }

    /** No value: RESP2's null bulk string, RESP3's null. */
    record Null() implements RespReply {
    }

    record Array(List<RespReply> items) implements RespReply {
    }

    /** RESP3's map; under RESP2 a flat array of keys and values, as Redis writes it. */
    record Map(List<Entry> entries) implements RespReply {
    }

    record Entry(RespReply key, RespReply value) {
    }

    RespReply OK = new Simple("OK");
    RespReply NULL = new Null();

    static RespReply bulk(String text) {
        return new Bulk(Bytes.utf8(text));
    }

    static Error error(String message) {
        return new Error("ERR", message);
    }
}
