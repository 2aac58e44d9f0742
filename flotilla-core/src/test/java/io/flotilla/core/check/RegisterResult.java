package io.flotilla.core.check;

/** The result of a {@link RegisterOp}. */
public sealed interface RegisterResult {
    RegisterResult OK = new Ok();
    RegisterResult MISMATCH = new Mismatch();

    static RegisterResult value(String value) {
        return new Value(value);
    }

    /** A read's answer; {@code value} is {@code null} when the key is absent. */
    record Value(String value) implements RegisterResult {
        @Override
        public String toString() {
            return value == null ? "absent" : value;
        }
    }

    /** A write, or a compare-and-set that matched. */
    record Ok() implements RegisterResult {
        @Override
        public String toString() {
            return "ok";
        }
    }

    /** A compare-and-set whose expected value did not match; nothing changed. */
    record Mismatch() implements RegisterResult {
        @Override
        public String toString() {
            return "mismatch";
        }
    }
}
