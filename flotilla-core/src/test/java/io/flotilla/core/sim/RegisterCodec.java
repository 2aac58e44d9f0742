package io.flotilla.core.sim;

import io.flotilla.core.Bytes;
import io.flotilla.core.Codec;
import io.flotilla.core.check.RegisterOp;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Encodes register operations as a type byte followed by length-prefixed UTF-8 strings. */
final class RegisterCodec implements Codec<RegisterOp> {
    private static final byte READ = 1;
    private static final byte WRITE = 2;
    private static final byte CAS = 3;
    /** Marks an absent expected value in a CAS. */
    private static final int ABSENT = -1;

    @Override
    public Bytes encode(RegisterOp op) {
        ByteBuffer buf = ByteBuffer.allocate(256);
        if (op instanceof RegisterOp.Read r) {
            buf.put(READ);
            putString(buf, r.key());
        } else if (op instanceof RegisterOp.Write w) {
            buf.put(WRITE);
            putString(buf, w.key());
            putString(buf, w.value());
        } else if (op instanceof RegisterOp.Cas c) {
            buf.put(CAS);
            putString(buf, c.key());
            putString(buf, c.expected());
            putString(buf, c.value());
        } else {
            throw new AssertionError(op);
        }
        return Bytes.copyOf(buf.array(), 0, buf.position());
    }

    @Override
    public RegisterOp decode(Bytes bytes) {
        ByteBuffer buf = ByteBuffer.wrap(bytes.unsafeArray());
        try {
            RegisterOp op = switch (buf.get()) {
                case READ -> new RegisterOp.Read(getString(buf));
                case WRITE -> new RegisterOp.Write(getString(buf), getString(buf));
                case CAS -> new RegisterOp.Cas(getString(buf), getString(buf), getString(buf));
                default -> throw new IllegalArgumentException("unknown register operation " + bytes);
            };
            if (buf.hasRemaining()) {
                throw new IllegalArgumentException("trailing bytes after register operation " + bytes);
            }
            return op;
        } catch (BufferUnderflowException | NullPointerException e) {
            throw new IllegalArgumentException("malformed register operation " + bytes, e);
        }
    }

    private static void putString(ByteBuffer buf, String s) {
        if (s == null) {
            buf.putInt(ABSENT);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        buf.putInt(b.length).put(b);
    }

    private static String getString(ByteBuffer buf) {
        int n = buf.getInt();
        if (n == ABSENT) {
            return null;
        }
        if (n < 0 || n > buf.remaining()) {
            throw new IllegalArgumentException("string of " + n + " bytes in " + buf.remaining());
        }
        byte[] b = new byte[n];
        buf.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
