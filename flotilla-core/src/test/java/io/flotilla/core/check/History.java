package io.flotilla.core.check;

import java.util.ArrayList;
import java.util.List;

/**
 * Records a history as clients invoke operations and learn their outcomes. Operations still open
 * when {@link #operations()} is called count as {@link Outcome#UNKNOWN}.
 */
public final class History<I, O> {
    private record Invocation<I>(int client, I input, long at) {
    }

    private final List<Invocation<I>> invocations = new ArrayList<>();
    private final List<Operation<I, O>> completed = new ArrayList<>();

    /** Records an invocation and returns the operation's id. */
    public int invoke(int client, I input, long at) {
        invocations.add(new Invocation<>(client, input, at));
        completed.add(null);
        return invocations.size() - 1;
    }

    public void ok(int id, O output, long at) {
        Invocation<I> inv = open(id);
        completed.set(id, Operation.ok(id, inv.client(), inv.input(), output, inv.at(), at));
    }

    public void failed(int id, long at) {
        Invocation<I> inv = open(id);
        completed.set(id, Operation.failed(id, inv.client(), inv.input(), inv.at(), at));
    }

    public void unknown(int id) {
        Invocation<I> inv = open(id);
        completed.set(id, Operation.unknown(id, inv.client(), inv.input(), inv.at()));
    }

    public boolean isOpen(int id) {
        return completed.get(id) == null;
    }

    public int size() {
        return invocations.size();
    }

    /** All operations in invocation order; open ones as {@link Outcome#UNKNOWN}. */
    public List<Operation<I, O>> operations() {
        List<Operation<I, O>> out = new ArrayList<>(completed.size());
        for (int id = 0; id < completed.size(); id++) {
            Operation<I, O> op = completed.get(id);
            if (op == null) {
                Invocation<I> inv = invocations.get(id);
                op = Operation.unknown(id, inv.client(), inv.input(), inv.at());
            }
            out.add(op);
        }
        return out;
    }

    private Invocation<I> open(int id) {
        if (completed.get(id) != null) {
            throw new IllegalStateException("operation #" + id + " already completed: " + completed.get(id));
        }
        return invocations.get(id);
    }
}
