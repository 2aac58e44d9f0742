package io.flotilla.core.check;

import java.util.Objects;
import java.util.Optional;

/**
 * A key-value store of independent registers supporting read, write and compare-and-set. Each key
 * is its own partition, so the checker's state is just one register's value.
 */
public final class RegisterModel implements Model<RegisterModel.Cell, RegisterOp, RegisterResult> {
    /** One register's value; {@code null} while the key is absent. */
    public record Cell(String value) {
        @Override
        public String toString() {
            return value == null ? "absent" : value;
        }
    }

    private static final Cell ABSENT = new Cell(null);

    @Override
    public Cell init() {
        return ABSENT;
    }

    @Override
    public Optional<Cell> step(Cell state, RegisterOp input, RegisterResult output) {
        if (input instanceof RegisterOp.Read) {
            boolean allowed = output == null
                    || output instanceof RegisterResult.Value v && Objects.equals(v.value(), state.value());
            return allowed ? Optional.of(state) : Optional.empty();
        } else if (input instanceof RegisterOp.Write w) {
            boolean allowed = output == null || output instanceof RegisterResult.Ok;
            return allowed ? Optional.of(new Cell(w.value())) : Optional.empty();
        } else if (input instanceof RegisterOp.Cas c) {
            boolean matches = Objects.equals(c.expected(), state.value());
            if (output == null) {
                return Optional.of(matches ? new Cell(c.value()) : state);
            }
            if (output instanceof RegisterResult.Ok) {
                return matches ? Optional.of(new Cell(c.value())) : Optional.empty();
            }
            return !matches && output instanceof RegisterResult.Mismatch ? Optional.of(state) : Optional.empty();
        }
        throw new AssertionError(input);
    }

    @Override
    public Object partition(RegisterOp input) {
        return input.key();
    }
}
