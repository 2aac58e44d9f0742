package io.flotilla.server.kv;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.Bytes;
import io.flotilla.core.check.Model;
import java.util.Optional;

/**
 * The key-value store's sequential specification, for the linearizability checker: each key is a
 * register with get, set, delete and compare-and-set, and its own partition. Sessions do not appear:
 * a write retried through its session is one operation, which must take effect once.
 */
final class KvModel implements Model<KvModel.Cell, Request, Response> {
    /** One key's value; {@code null} while it is absent. */
    record Cell(Bytes value) {
        @Override
        public String toString() {
            return value == null ? "absent" : value.toString();
        }
    }

    private static final Cell ABSENT = new Cell(null);

    @Override
    public Cell init() {
        return ABSENT;
    }

    @Override
    public Optional<Cell> step(Cell state, Request input, Response output) {
        if (output instanceof Response.Failure f && f.code() == Response.Code.UNAVAILABLE) {
            return Optional.of(state); // refused by the session limits: not applied
        }
        if (input instanceof Request.Get) {
            boolean seen = output instanceof Response.Value v ? v.value().equals(state.value())
                    : output != null && output.code() == Response.Code.NOT_FOUND && state.value() == null;
            return seen ? Optional.of(state) : Optional.empty();
        } else if (input instanceof Request.Set s) {
            return output == null || output.equals(Response.OK) ? Optional.of(new Cell(s.value())) : Optional.empty();
        } else if (input instanceof Request.Delete) {
            Response expected = state.value() != null ? Response.OK : Response.NOT_FOUND;
            return output == null || output.equals(expected) ? Optional.of(ABSENT) : Optional.empty();
        } else if (input instanceof Request.Cas c) {
            boolean matches = c.expected().equals(Optional.ofNullable(state.value()));
            Cell after = matches ? new Cell(c.value()) : state;
            Response expected = matches ? Response.OK : Response.CAS_MISMATCH;
            return output == null || output.equals(expected) ? Optional.of(after) : Optional.empty();
        }
        throw new AssertionError(input);
    }

    @Override
    public Object partition(Request input) {
        if (input instanceof Request.Get g) {
            return g.key();
        } else if (input instanceof Request.Set s) {
            return s.key();
        } else if (input instanceof Request.Delete d) {
            return d.key();
        } else if (input instanceof Request.Cas c) {
            return c.key();
        }
        throw new AssertionError(input);
    }
}
