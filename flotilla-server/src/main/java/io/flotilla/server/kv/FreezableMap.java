package io.flotilla.server.kv;

import io.flotilla.core.Bytes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The store's map, able to hand its contents to a snapshot writer in O(1) while writes go on: a
 * capture of a million keys used to copy them all on the node's thread (a median of 84-250 ms in
 * SnapshotCaptureBench, single captures up to a second on the loaded development machine).
 *
 * <p>{@link #freeze} gives {@code base} to a {@link Frozen} view and leaves it untouched from then
 * on: writes go to {@code overlay} (the new value, or {@link #TOMBSTONE} for a removed key) and reads
 * look there first. The writer, on its thread, copies the entries out in one pass and releases the
 * view; from then on writes fold the overlay back into the base a few entries at a time
 * ({@link #FOLD_STEP}), so that no single call pays for all of it.
 *
 * <p>Why a pass: for a million keys it takes 50-160 ms and 28 MiB (an entry object per key) on the
 * writer's thread. Holding the base for the whole write instead (sort and all, 1-2 s) saved those
 * 28 MiB, but the overlay then took every write made meanwhile: in SnapshotCaptureBench, 200,000-
 * 400,000 of them, 50-75 MiB more heap, and a capture right after such a writer, before the overlay
 * folded back, paused the node 60-130 ms to fold it all.
 *
 * <p>A capture while the previous view is not released: a view whose writer has not started is
 * revoked (its writer then throws), since it was abandoned (the node's snapshotter starts a new
 * capture only after the previous writer finished, or when it never started it); a view whose writer
 * is in its pass keeps the base, and the new capture gets a merged copy of its own, the old cost.
 *
 * <p>All but {@link Frozen}'s writer side runs on the node's thread, and no read changes the
 * structure, so a stray read from another thread sees no more of a race than with a plain map.
 */
final class FreezableMap {
    /**
     * Overlay entries folded back per write. A fold is a put into the big map, about what a write
     * costs (0.2-0.5 µs on the development machine, folding a few hundred thousand at once): 32 add
     * some 10 µs to one write at most, and drain an overlay after 1/32 of the writes that filled it.
     */
    static final int FOLD_STEP = 32;
    /** Marks a key removed since the base was frozen; compared by identity, never handed out. */
    private static final Bytes TOMBSTONE = Bytes.copyOf(new byte[] {'-'});

    private final int foldStep;
    private Map<Bytes, Bytes> base = new HashMap<>();
    /** Changes above {@link #base}: empty unless a view holds the base or the overlay is being folded back. */
    private Map<Bytes, Bytes> overlay = new HashMap<>();
    /** The view reading {@link #base}, until it is released; null otherwise. */
    private Frozen frozen;
    /** Folding the overlay back into the base, once {@link #frozen} was released; null otherwise. */
    private Iterator<Map.Entry<Bytes, Bytes>> folding;
    /** Keys held (base and overlay together), kept as writes go, so it is exact at any time. */
    private int size;

    FreezableMap() {
        this(FOLD_STEP);
    }

    /** For tests: folds {@code foldStep} entries per write. */
    FreezableMap(int foldStep) {
        this.foldStep = foldStep;
    }

    int size() {
        return size;
    }

    Bytes get(Bytes key) {
        if (!overlay.isEmpty()) {
            Bytes changed = overlay.get(key);
            if (changed != null) {
                return changed == TOMBSTONE ? null : changed;
            }
        }
        return base.get(key);
    }

    /** Returns the previous value, or null. */
    Bytes put(Bytes key, Bytes value) {
        return write(key, value);
    }

    /** Returns the removed value, or null if there was none. */
    Bytes remove(Bytes key) {
        return write(key, null);
    }

    private Bytes write(Bytes key, Bytes value) {
        fold(foldStep);
        Bytes previous;
        if (frozen == null && folding == null) { // the base alone, as most of the time: one lookup
            previous = value == null ? base.remove(key) : base.put(key, value);
        } else {
            previous = get(key);
            if (previous != null || value != null) {
                writeAboveOrAround(key, value);
            }
        }
        size += (value == null ? 0 : 1) - (previous == null ? 0 : 1);
        return previous;
    }

    /** A write while the overlay is in use: above a frozen base, else into the overlay's entry or the base. */
    private void writeAboveOrAround(Bytes key, Bytes value) {
        Bytes change = value == null ? TOMBSTONE : value;
        if (frozen != null) {
            overlay.put(key, change);
        } else if (overlay.replace(key, change) == null) { // if there, replaced in place: the folding iterator stays valid
            if (value == null) {
                base.remove(key);
            } else {
                base.put(key, value);
            }
        }
    }

    /** Empties the map (a restore). A view keeps the base it holds, now its own. */
    void clear() {
        base = new HashMap<>();
        overlay = new HashMap<>();
        frozen = null;
        folding = null;
        size = 0;
    }

    /** Captures the contents as they are now, for one writer (see the class comment for a capture while another is out). */
    Frozen freeze() {
        if (frozen != null && !frozen.releaseIfUnclaimed()) {
            Map<Bytes, Bytes> copy = new HashMap<>(base);
            overlay.forEach((key, change) -> {
                if (change == TOMBSTONE) {
                    copy.remove(key);
                } else {
                    copy.put(key, change);
                }
            });
            return new Frozen(copy);
        }
        fold(Integer.MAX_VALUE);
        frozen = new Frozen(base);
        overlay = new HashMap<>(); // a fresh one: a HashMap never shrinks its table after a large fold
        return frozen;
    }

    /** Entries above the base, for tests: 0 once a released view's changes are folded back. */
    int overlaySize() {
        return overlay.size();
    }

    /** Folds up to {@code budget} overlay entries into the base, if no view holds it. */
    private void fold(int budget) {
        if (frozen != null && frozen.released()) {
            frozen = null;
            folding = overlay.entrySet().iterator();
        }
        if (folding == null) {
            return;
        }
        for (; budget > 0 && folding.hasNext(); budget--) {
            Map.Entry<Bytes, Bytes> e = folding.next();
            if (e.getValue() == TOMBSTONE) {
                base.remove(e.getKey());
            } else {
                base.put(e.getKey(), e.getValue());
            }
            folding.remove();
        }
        if (!folding.hasNext()) {
            folding = null;
        }
    }

    /** A captured state for one writer: a map nobody changes until the writer has copied it out. */
    static final class Frozen {
        private static final int CAPTURED = 0;
        private static final int READING = 1;
        private static final int DONE = 2;
        private static final int REVOKED = 3;

        private final Map<Bytes, Bytes> map;
        /** Set by the writer's thread (claim, release) and the node's (revoke); the node changes the map only once DONE or REVOKED. */
        private final AtomicInteger state = new AtomicInteger(CAPTURED);

        private Frozen(Map<Bytes, Bytes> map) {
            this.map = map;
        }

        /**
         * The writer's side (any thread, once): the entries sorted by key (unsigned bytes). They are
         * copied out in one pass and the map released before the sort, so that the node holds the
         * map's changes apart only for that pass, not for the whole write.
         */
        List<Map.Entry<Bytes, Bytes>> sortedEntries() {
            Map<Bytes, Bytes> reading = claim();
            List<Map.Entry<Bytes, Bytes>> entries;
            try {
                entries = new ArrayList<>(reading.size());
                for (Map.Entry<Bytes, Bytes> e : reading.entrySet()) {
                    entries.add(Map.entry(e.getKey(), e.getValue())); // the map's own entries change once it is released
                }
            } finally {
                release();
            }
            entries.sort(Map.Entry.comparingByKey());
            return entries;
        }

        /** Claims the map for reading until {@link #release}; once only, and not after a revoke. */
        Map<Bytes, Bytes> claim() {
            if (!state.compareAndSet(CAPTURED, READING)) {
                throw new IllegalStateException(state.get() == REVOKED
                        ? "this snapshot was never written and a newer capture replaced it" : "a captured snapshot is written once");
            }
            return map;
        }

        void release() {
            state.set(DONE);
        }

        private boolean released() {
            int s = state.get();
            return s == DONE || s == REVOKED;
        }

        /** Revokes this view if its writer has not claimed it; true if the map is free now. */
        private boolean releaseIfUnclaimed() {
            state.compareAndSet(CAPTURED, REVOKED);
            return released();
        }
    }
}
