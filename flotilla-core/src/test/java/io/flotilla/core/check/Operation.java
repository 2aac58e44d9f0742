package io.flotilla.core.check;

/**
 * One operation of a history, as a client saw it.
 *
 * @param id          unique within the history; reports name operations by it ({@code #id})
 * @param client      who invoked it, for reports only
 * @param output      the result for {@link Outcome#OK}, otherwise {@code null}
 * @param invokedAt   when the client sent it
 * @param respondedAt when the client got the answer; ignored unless {@link Outcome#OK}
 */
public record Operation<I, O>(int id, int client, I input, O output, long invokedAt, long respondedAt,
                              Outcome outcome) {
    public Operation {
        if (outcome == Outcome.OK && respondedAt < invokedAt) {
            throw new IllegalArgumentException("#" + id + " responded at " + respondedAt + " before its invocation at " + invokedAt);
        }
    }

    public static <I, O> Operation<I, O> ok(int id, int client, I input, O output, long invokedAt, long respondedAt) {
        return new Operation<>(id, client, input, output, invokedAt, respondedAt, Outcome.OK);
    }

    public static <I, O> Operation<I, O> failed(int id, int client, I input, long invokedAt, long respondedAt) {
        return new Operation<>(id, client, input, null, invokedAt, respondedAt, Outcome.FAILED);
    }

    public static <I, O> Operation<I, O> unknown(int id, int client, I input, long invokedAt) {
        return new Operation<>(id, client, input, null, invokedAt, Long.MAX_VALUE, Outcome.UNKNOWN);
    }

    @Override
    public String toString() {
        String result = switch (outcome) {
            case OK -> output + " [" + invokedAt + ".." + respondedAt + "]";
            case FAILED -> "failed [" + invokedAt + ".." + respondedAt + "]";
            case UNKNOWN -> "unknown [" + invokedAt + "..)";
        };
        return "#" + id + " client " + client + ": " + input + " -> " + result;
    }
}
