package io.flotilla.core.check;

import java.util.Objects;

/** An operation on a key-value store of registers, as {@link RegisterModel} specifies them. */
public sealed interface RegisterOp {
    String key();

    /** Returns the key's value, or absent. */
    record Read(String key) implements RegisterOp {
        public Read {
            Objects.requireNonNull(key);
        }

        @Override
        public String toString() {
            return "read(" + key + ")";
        }
    }

    /** Sets the key's value. */
    record Write(String key, String value) implements RegisterOp {
        public Write {
            Objects.requireNonNull(key);
            Objects.requireNonNull(value);
        }

        @Override
        public String toString() {
            return "write(" + key + ", " + value + ")";
        }
    }

    /** Sets the key's value if it currently is {@code expected} ({@code null}: if the key is absent). */
    record Cas(String key, String expected, String value) implements RegisterOp {
        public Cas {
            Objects.requireNonNull(key);
            Objects.requireNonNull(value);
        }

        @Override
        public String toString() {
            return "cas(" + key + ", " + (expected == null ? "absent" : expected) + " -> " + value + ")";
        }
    }
}
