package io.flotilla.core.message;

/**
 * The answer to an {@link AppendEntries}, sent only once the entries it acknowledges are durable.
 *
 * <p>On success, {@code index} is the last index the follower now knows to match the leader's log.
 * On rejection, {@code index} is the rejected request's {@code prevLogIndex}, and the hint lets the
 * leader skip a whole conflicting term at once: {@code hintIndex} is the follower's largest index at
 * or below {@code prevLogIndex} whose term is at most the request's {@code prevLogTerm}, and
 * {@code hintTerm} is the term there.
 */
public record AppendResponse(int from, int to, long term, boolean success, long index,
                             long hintIndex, long hintTerm, long round) implements Message {
    public static AppendResponse success(int from, int to, long term, long matchIndex, long round) {
        return new AppendResponse(from, to, term, true, matchIndex, 0, 0, round);
    }

    public static AppendResponse reject(int from, int to, long term, long rejectedIndex,
                                        long hintIndex, long hintTerm, long round) {
        return new AppendResponse(from, to, term, false, rejectedIndex, hintIndex, hintTerm, round);
    }

    @Override
    public Kind kind() {
        return Kind.APPEND_RESPONSE;
    }
}
