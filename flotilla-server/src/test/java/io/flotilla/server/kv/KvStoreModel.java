package io.flotilla.server.kv;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.Bytes;
import io.flotilla.core.check.Model;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The whole store as one register of key-value maps, for operations on many keys at once (the Redis
 * port's MSET, multi-key DEL and MGET): each such operation must take effect at one point, on all its
 * keys. One partition for everything, so histories are kept small (a few keys, fewer steps) for the
 * checker. Single-key operations follow {@link KvModel}'s rules.
 */
final class KvStoreModel implements Model<Map<Bytes, Bytes>, Request, Response> {
    @Override
    public Map<Bytes, Bytes> init() {
        return Map.of();
    }

    @Override
    public Optional<Map<Bytes, Bytes>> step(Map<Bytes, Bytes> state, Request input, Response output) {
        if (output instanceof Response.Failure f && f.code() == Response.Code.UNAVAILABLE) {
            return Optional.of(state); // refused by the session limits: not applied
        }
        if (input instanceof Request.Get g) {
            Bytes value = state.get(g.key());
            return (value == null ? Response.NOT_FOUND.equals(output) : new Response.Value(value).equals(output))
                    ? Optional.of(state) : Optional.empty();
        } else if (input instanceof Request.GetMany g) {
            List<Optional<Bytes>> values = g.keys().stream().map(k -> Optional.ofNullable(state.get(k))).toList();
            return new Response.Values(values).equals(output) ? Optional.of(state) : Optional.empty();
        }
        Map<Bytes, Bytes> after = new TreeMap<>(state);
        Response expected;
        if (input instanceof Request.Set s) {
            after.put(s.key(), s.value());
            expected = Response.OK;
        } else if (input instanceof Request.Delete d) {
            expected = after.remove(d.key()) != null ? Response.OK : Response.NOT_FOUND;
        } else if (input instanceof Request.Cas c) {
            boolean matches = c.expected().equals(Optional.ofNullable(state.get(c.key())));
            if (matches) {
                after.put(c.key(), c.value());
            }
            expected = matches ? Response.OK : Response.CAS_MISMATCH;
        } else if (input instanceof Request.SetMany m) {
            m.entries().forEach(e -> after.put(e.key(), e.value()));
            expected = Response.OK;
        } else if (input instanceof Request.DeleteMany d) {
            long removed = d.keys().stream().filter(k -> after.remove(k) != null).count();
            expected = removed == 0 ? Response.NOT_FOUND : new Response.Count(removed);
            if (removed > 0 && Response.OK.equals(output)) {
                expected = Response.OK; // a retry answered from the session, which keeps "applied", not the count
            }
        } else {
            throw new AssertionError(input);
        }
        return output == null || output.equals(expected) ? Optional.of(Collections.unmodifiableMap(after)) : Optional.empty();
    }

    @Override
    public Object partition(Request input) {
        return "store";
    }
}
