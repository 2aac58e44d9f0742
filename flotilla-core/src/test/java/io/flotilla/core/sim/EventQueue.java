package io.flotilla.core.sim;

import java.util.PriorityQueue;

/** Virtual time: events ordered by when they are due, ties broken by the order they were scheduled. */
final class EventQueue {
    /** Something that happens at a point of virtual time. */
    interface Event {
    }

    record Scheduled(long time, long seq, Event event) implements Comparable<Scheduled> {
        @Override
        public int compareTo(Scheduled o) {
            return time != o.time ? Long.compare(time, o.time) : Long.compare(seq, o.seq);
        }

        @Override
        public String toString() {
            return "t=" + time + " " + event;
        }
    }

    private final PriorityQueue<Scheduled> queue = new PriorityQueue<>();
    private long now;
    private long seq;

    long now() {
        return now;
    }

    void after(long delay, Event event) {
        if (delay < 0) {
            throw new IllegalArgumentException("negative delay " + delay);
        }
        queue.add(new Scheduled(now + delay, seq++, event));
    }

    /** Takes the next event and moves the clock to it. */
    Scheduled next() {
        Scheduled s = queue.poll();
        if (s == null) {
            throw new IllegalStateException("nothing left to happen");
        }
        now = s.time();
        return s;
    }
}
