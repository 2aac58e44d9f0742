package io.flotilla.core.storage;

import java.util.Arrays;

/**
 * The in-memory index of the log: term and in-segment file position of every entry, in flat arrays
 * (12 bytes an entry), so {@code term(i)} is O(1) and a read knows exactly which bytes to fetch.
 * Positions fit an int because segments are capped well below 2 GiB.
 *
 * <p>It also knows the term just before its first entry: 0 at the start of history, the term at the
 * compaction point after compaction.
 */
final class LogIndex {
    private long firstIndex;
    private long termBeforeFirst;
    private long[] terms = new long[1024];
    private int[] positions = new int[1024];
    private int count;

    LogIndex(long firstIndex, long termBeforeFirst) {
        this.firstIndex = firstIndex;
        this.termBeforeFirst = termBeforeFirst;
    }

    long firstIndex() {
        return firstIndex;
    }

    long lastIndex() {
        return firstIndex + count - 1;
    }

    /** The term at {@code index}, for {@code firstIndex() - 1 <= index <= lastIndex()} (checked by the caller). */
    long term(long index) {
        return index == firstIndex - 1 ? termBeforeFirst : terms[slot(index)];
    }

    long lastTerm() {
        return term(lastIndex());
    }

    /** Where the record of {@code index} starts in its segment file. */
    int position(long index) {
        return positions[slot(index)];
    }

    void add(long term, long position) {
        if (count == terms.length) {
            if (count == Integer.MAX_VALUE - 8) {
                throw new IllegalStateException("more than " + count + " entries in memory; compact the log");
            }
            int grown = (int) Math.min(Integer.MAX_VALUE - 8L, count * 2L);
            terms = Arrays.copyOf(terms, grown);
            positions = Arrays.copyOf(positions, grown);
        }
        terms[count] = term;
        positions[count] = Math.toIntExact(position);
        count++;
    }

    /**
     * Forgets the entries before {@code newFirst} (at most {@code lastIndex() + 1}), remembering the
     * term of the one just before it.
     */
    void dropBefore(long newFirst) {
        int dropped = slot(newFirst);
        termBeforeFirst = term(newFirst - 1);
        System.arraycopy(terms, dropped, terms, 0, count - dropped);
        System.arraycopy(positions, dropped, positions, 0, count - dropped);
        count -= dropped;
        firstIndex = newFirst;
    }

    /** Forgets every entry: the log becomes empty, continuing after {@code lastIndex} of term {@code lastTerm}. */
    void reset(long lastIndex, long lastTerm) {
        firstIndex = lastIndex + 1;
        termBeforeFirst = lastTerm;
        count = 0;
    }

    /** Forgets {@code index} and everything after it. */
    void truncateFrom(long index) {
        count = slot(index);
    }

    private int slot(long index) {
        return (int) (index - firstIndex);
    }
}
