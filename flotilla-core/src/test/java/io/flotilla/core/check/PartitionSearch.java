package io.flotilla.core.check;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The search for one partition (Lowe, "Testing for linearizability", 2017; Porcupine's
 * {@code checkSingle}). The history becomes a doubly linked list of call and return events in time
 * order. Scanning from the front, a call may be linearized next if the model allows it: its call and
 * return are lifted out of the list and the scan restarts. Reaching a return means that operation
 * had to be linearized already, so the search backtracks. A configuration (set of linearized
 * operations, model state) is explored at most once, which makes the search practical.
 *
 * <p>An UNKNOWN operation has a call but no return: it never forces a backtrack, so it may be
 * linearized anywhere after its invocation or left out. The search succeeds once every OK
 * operation is linearized.
 */
final class PartitionSearch<S, I, O> {
    record Result<I, O>(CheckResult.Verdict verdict, long steps, List<Operation<I, O>> prefix,
                        Object stateAfterPrefix, List<Operation<I, O>> blocked) {
    }

    private static final class Event<I, O> {
        final Operation<I, O> op;
        final int opIndex;
        final boolean call;
        Event<I, O> match;
        Event<I, O> prev;
        Event<I, O> next;

        Event(Operation<I, O> op, int opIndex, boolean call) {
            this.op = op;
            this.opIndex = opIndex;
            this.call = call;
        }

        long time() {
            return call ? op.invokedAt() : op.respondedAt();
        }
    }

    private record Frame<S, I, O>(Event<I, O> call, S stateBefore) {
    }

    private record Configuration(BitSet linearized, Object state) {
    }

    private final Model<S, I, O> model;
    private final List<Operation<I, O>> ops;
    private final long budget;
    private final Event<I, O> head = new Event<>(null, -1, true);

    /** The configuration with the most OK operations linearized, and what blocked it. */
    private int bestOk;
    private List<Operation<I, O>> bestPrefix = List.of();
    private S bestState;
    private List<Operation<I, O>> bestBlocked = List.of();

    PartitionSearch(Model<S, I, O> model, List<Operation<I, O>> ops, long budget) {
        this.model = model;
        this.ops = ops;
        this.budget = budget;
        buildEventList();
    }

    Result<I, O> run() {
        S state = model.init();
        bestState = state;
        BitSet linearized = new BitSet(ops.size());
        Set<Configuration> seen = new HashSet<>();
        Deque<Frame<S, I, O>> stack = new ArrayDeque<>();
        int okCount = (int) ops.stream().filter(op -> op.outcome() == Outcome.OK).count();
        int okLeft = okCount;
        Event<I, O> e = head.next;
        long steps = 0;
        while (okLeft > 0) {
            if (++steps > budget) {
                return new Result<>(CheckResult.Verdict.UNDECIDED, steps, bestPrefix, bestState, bestBlocked);
            }
            if (e != null && e.call) {
                Optional<S> next = model.step(state, e.op.input(), e.op.output());
                if (next.isPresent()) {
                    BitSet after = (BitSet) linearized.clone();
                    after.set(e.opIndex);
                    if (seen.add(new Configuration(after, next.get()))) {
                        stack.push(new Frame<>(e, state));
                        state = next.get();
                        linearized = after;
                        if (e.op.outcome() == Outcome.OK) {
                            okLeft--;
                        }
                        lift(e);
                        if (okCount - okLeft > bestOk) {
                            bestOk = okCount - okLeft;
                            bestPrefix = prefixOf(stack);
                            bestState = state;
                            bestBlocked = List.of();
                        }
                        e = head.next;
                        continue;
                    }
                }
                e = e.next;
                continue;
            }
            // A return (or the end): its operation should have been linearized by now.
            if (stack.size() == bestPrefix.size() && bestBlocked.isEmpty() && e != null) {
                bestBlocked = blockedBefore(e);
            }
            if (stack.isEmpty()) {
                return new Result<>(CheckResult.Verdict.NOT_LINEARIZABLE, steps, bestPrefix, bestState, bestBlocked);
            }
            Frame<S, I, O> top = stack.pop();
            state = top.stateBefore();
            linearized = (BitSet) linearized.clone();
            linearized.clear(top.call().opIndex);
            if (top.call().op.outcome() == Outcome.OK) {
                okLeft++;
            }
            unlift(top.call());
            e = top.call().next;
        }
        return new Result<>(CheckResult.Verdict.LINEARIZABLE, steps, List.of(), state, List.of());
    }

    private List<Operation<I, O>> prefixOf(Deque<Frame<S, I, O>> stack) {
        List<Operation<I, O>> prefix = new ArrayList<>(stack.size());
        stack.descendingIterator().forEachRemaining(f -> prefix.add(f.call().op));
        return prefix;
    }

    /** The operation whose return {@code ret} is, followed by every other one invoked before that and still open. */
    private List<Operation<I, O>> blockedBefore(Event<I, O> ret) {
        List<Operation<I, O>> blocked = new ArrayList<>();
        blocked.add(ret.op);
        for (Event<I, O> c = head.next; c != ret; c = c.next) {
            if (c.call && c.op != ret.op) {
                blocked.add(c.op);
            }
        }
        return blocked;
    }

    private void buildEventList() {
        List<Event<I, O>> events = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            Operation<I, O> op = ops.get(i);
            Event<I, O> call = new Event<>(op, i, true);
            events.add(call);
            if (op.outcome() == Outcome.OK) {
                Event<I, O> ret = new Event<>(op, i, false);
                call.match = ret;
                events.add(ret);
            }
        }
        // At equal times calls go first: operations that touch in time count as concurrent.
        events.sort(Comparator.<Event<I, O>>comparingLong(Event::time)
                .thenComparing(ev -> !ev.call)
                .thenComparingInt(ev -> ev.op.id()));
        Event<I, O> last = head;
        for (Event<I, O> ev : events) {
            last.next = ev;
            ev.prev = last;
            last = ev;
        }
    }

    private void lift(Event<I, O> call) {
        call.prev.next = call.next;
        if (call.next != null) {
            call.next.prev = call.prev;
        }
        Event<I, O> ret = call.match;
        if (ret != null) {
            ret.prev.next = ret.next;
            if (ret.next != null) {
                ret.next.prev = ret.prev;
            }
        }
    }

    private void unlift(Event<I, O> call) {
        Event<I, O> ret = call.match;
        if (ret != null) {
            ret.prev.next = ret;
            if (ret.next != null) {
                ret.next.prev = ret;
            }
        }
        call.prev.next = call;
        if (call.next != null) {
            call.next.prev = call;
        }
    }
}
