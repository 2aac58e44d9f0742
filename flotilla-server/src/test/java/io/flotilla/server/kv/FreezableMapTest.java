package io.flotilla.server.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.Bytes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class FreezableMapTest {
    private final FreezableMap map = new FreezableMap();

    private static Bytes b(String s) {
        return Bytes.utf8(s);
    }

    /** What a view's writer gets, in order. */
    private static Map<Bytes, Bytes> written(FreezableMap.Frozen view) {
        Map<Bytes, Bytes> out = new LinkedHashMap<>();
        view.sortedEntries().forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /** Writes until the overlay is folded back, no more writes than its size allows. */
    private void drain() {
        int bound = map.overlaySize() / FreezableMap.FOLD_STEP + 1;
        for (int writes = 0; map.overlaySize() > 0; writes++) {
            assertThat(writes).as("writes to fold back the overlay").isLessThan(bound);
            map.remove(b("absent"));
        }
    }

    private static Map<Bytes, Bytes> entries(String... keysAndValues) {
        Map<Bytes, Bytes> out = new TreeMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            out.put(b(keysAndValues[i]), b(keysAndValues[i + 1]));
        }
        return out;
    }

    @Test
    void aViewHoldsTheContentsAtFreezeWhateverIsWrittenAfterAndReadsSeeTheLatest() {
        Map<Bytes, Bytes> expected = new TreeMap<>();
        for (int i = 0; i < 10; i++) {
            map.put(b("k" + i), b("v" + i));
            expected.put(b("k" + i), b("v" + i));
        }
        FreezableMap.Frozen view = map.freeze();
        map.put(b("k1"), b("changed"));             // overwrite
        map.remove(b("k2"));                         // delete
        map.remove(b("k3"));                         // delete, then insert again
        map.put(b("k3"), b("back"));
        map.put(b("new"), b("n"));                   // insert, then delete
        map.remove(b("new"));
        map.put(b("k4"), b("v4"));                   // the same value again
        assertThat(map.remove(b("never"))).isNull(); // nothing to record

        assertThat(map.get(b("k1"))).isEqualTo(b("changed"));
        assertThat(map.get(b("k2"))).isNull();
        assertThat(map.get(b("k3"))).isEqualTo(b("back"));
        assertThat(map.get(b("new"))).isNull();
        assertThat(map.size()).isEqualTo(9);
        assertThat(map.overlaySize()).isEqualTo(5);

        assertThat(written(view)).containsExactlyEntriesOf(expected);
        drain();
        assertThat(map.get(b("k1"))).isEqualTo(b("changed"));
        assertThat(map.get(b("k2"))).isNull();
        assertThat(map.get(b("k3"))).isEqualTo(b("back"));
        assertThat(map.size()).isEqualTo(9);
    }

    @Test
    void whileAWriterReadsTheMapWritesGoAboveItAndACaptureGetsACopy() {
        for (int i = 0; i < 100; i++) {
            map.put(b(String.format("k%03d", i)), b("v" + i));
        }
        FreezableMap.Frozen view = map.freeze();
        Map<Bytes, Bytes> reading = view.claim(); // the writer's pass: the node goes on meanwhile
        Map<Bytes, Bytes> expected = new HashMap<>(reading);
        for (int i = 0; i < 100; i += 2) {
            map.put(b(String.format("k%03d", i)), b("after"));
            map.remove(b(String.format("k%03d", i + 1)));
        }
        map.put(b("new"), b("n"));
        FreezableMap.Frozen copy = map.freeze();
        map.put(b("k000"), b("after the copy"));
        assertThat(reading).isEqualTo(expected);
        assertThat(map.overlaySize()).isEqualTo(101);
        view.release();

        assertThat(written(copy)).hasSize(51).containsEntry(b("k000"), b("after")).containsEntry(b("new"), b("n"))
                .doesNotContainKey(b("k001"));
        drain();
        assertThat(map.size()).isEqualTo(51);
        assertThat(map.get(b("k000"))).isEqualTo(b("after the copy"));
        assertThat(map.get(b("k001"))).isNull();
    }

    @Test
    void theOverlayFoldsBackAFewEntriesPerWriteWhileWritesGoOn() {
        FreezableMap.Frozen view = map.freeze();
        int n = 10 * FreezableMap.FOLD_STEP + 3;
        for (int i = 0; i < n; i++) {
            map.put(b("k" + i), b("v" + i));
        }
        assertThat(written(view)).isEmpty();
        assertThat(map.overlaySize()).isEqualTo(n);
        // Writes while folding: one to a key still in the overlay, one past it, one removal of each kind.
        map.put(b("k0"), b("again"));
        assertThat(map.overlaySize()).isEqualTo(n - FreezableMap.FOLD_STEP);
        map.put(b("fresh"), b("f"));
        map.remove(b("k1"));
        map.remove(b("fresh"));
        assertThat(map.size()).isEqualTo(n - 1);
        drain();
        assertThat(map.get(b("k0"))).isEqualTo(b("again"));
        assertThat(map.get(b("k1"))).isNull();
        assertThat(map.get(b("fresh"))).isNull();
        assertThat(map.get(b("k" + (n - 1)))).isEqualTo(b("v" + (n - 1)));
        assertThat(written(map.freeze())).hasSize(n - 1);
    }

    @Test
    void aViewIsReadOnceAndANewCaptureRevokesOneNeverRead() {
        map.put(b("a"), b("1"));
        FreezableMap.Frozen abandoned = map.freeze(); // the node stopped, or could not open the snapshot file
        map.put(b("b"), b("2"));
        FreezableMap.Frozen second = map.freeze();    // revokes the first: its changes fold back at once
        assertThat(map.overlaySize()).isZero();
        assertThatThrownBy(abandoned::sortedEntries).isInstanceOf(IllegalStateException.class).hasMessageContaining("newer capture");

        map.put(b("c"), b("3"));
        assertThat(written(second)).isEqualTo(entries("a", "1", "b", "2"));
        assertThatThrownBy(second::sortedEntries).isInstanceOf(IllegalStateException.class).hasMessageContaining("written once");
        drain();
        assertThat(written(map.freeze())).isEqualTo(entries("a", "1", "b", "2", "c", "3"));
    }

    @Test
    void aClearLeavesAViewItsContents() {
        map.put(b("a"), b("1"));
        FreezableMap.Frozen view = map.freeze();
        map.clear(); // a restore
        map.put(b("b"), b("2"));
        assertThat(map.size()).isEqualTo(1);
        assertThat(written(view)).isEqualTo(entries("a", "1"));
        assertThat(written(map.freeze())).isEqualTo(entries("b", "2"));
    }

    @Test
    void behavesLikeAPlainMapUnderRandomWritesCapturesReadsAndRestores() {
        long seed = Long.getLong("flotilla.seed", System.nanoTime()); // -Dflotilla.seed=... replays a run
        System.out.println("FreezableMapTest model seed " + seed);
        Random seeds = new Random(seed);
        for (int round = 0; round < 40; round++) {
            new ModelRun(seeds.nextLong()).run(3000);
        }
    }

    /** A view the model run has taken: what it must hold, and whether a newer capture revoked it before it was read. */
    private static final class View {
        final FreezableMap.Frozen frozen;
        final TreeMap<Bytes, Bytes> expected;
        boolean revoked;

        View(FreezableMap.Frozen frozen, Map<Bytes, Bytes> expected) {
            this.frozen = frozen;
            this.expected = new TreeMap<>(expected);
        }
    }

    /**
     * One seeded run against a HashMap: writes, captures, reads of captured views (some with the
     * node's writes, captures and restores between the writer's steps), abandoned views, restores.
     */
    private static final class ModelRun {
        static final List<Bytes> KEYS = IntStream.range(0, 40).mapToObj(k -> b("k" + k)).toList();

        final long seed;
        final Random random;
        /** Folds 1 to 4 entries per write, so that writes often meet an overlay being folded. */
        final int foldStep;
        final FreezableMap map;
        final Map<Bytes, Bytes> model = new HashMap<>();
        final List<View> pending = new ArrayList<>();
        /** The last view that took the map's base, until a restore makes the map forget it. */
        View holder;
        /** The view being read (one at a time, as the node's snapshotter does). */
        View reading;
        int values;

        ModelRun(long seed) {
            this.seed = seed;
            this.random = new Random(seed);
            this.foldStep = 1 + random.nextInt(4);
            this.map = new FreezableMap(foldStep);
        }

        void run(int steps) {
            for (int i = 0; i < steps; i++) {
                step(true);
            }
            for (View v : List.copyOf(pending)) {
                read(v);
            }
            View last = freeze(); // revokes an abandoned view still holding the base, if any
            for (int i = 0; i < 200; i++) {
                writeKey(random.nextBoolean());
            }
            pending.remove(last);
            assertThat(written(last.frozen)).as("seed %d: the last view", seed).containsExactlyEntriesOf(last.expected);
            int bound = map.overlaySize() / foldStep + 1;
            for (int writes = 0; map.overlaySize() > 0; writes++) {
                assertThat(writes).as("seed %d: writes to fold back the overlay", seed).isLessThan(bound);
                writeKey(random.nextBoolean());
            }
            assertThat(written(map.freeze())).as("seed %d: a capture at the end", seed).containsExactlyEntriesOf(new TreeMap<>(model));
        }

        /** One random operation, then a check of every key; {@code mayRead} is false inside a writer's pass. */
        void step(boolean mayRead) {
            int r = random.nextInt(100);
            if (r < 70) {
                writeKey(r < 45);
            } else if (r < 78) {
                freeze();
            } else if (r < 90 && mayRead && !pending.isEmpty()) {
                read(pending.get(random.nextInt(pending.size())));
            } else if (r < 93 && !pending.isEmpty()) {
                pending.remove(random.nextInt(pending.size())); // abandoned: never read
            } else if (r < 95) {
                map.clear();
                model.clear();
                holder = null;
            }
            same("size", "", map.size(), model.size());
            for (Bytes key : KEYS) {
                same("get", key, map.get(key), model.get(key));
            }
        }

        /** An assertion cheap enough for every step (AssertJ's is not, a few million times). */
        void same(String what, Object key, Object actual, Object expected) {
            if (!Objects.equals(actual, expected)) {
                assertThat(actual).as("seed %d: %s %s", seed, what, key).isEqualTo(expected);
            }
        }

        void writeKey(boolean put) {
            Bytes key = KEYS.get(random.nextInt(KEYS.size()));
            if (put) {
                Bytes value = b("v" + values++);
                same("put", key, map.put(key, value), model.put(key, value));
            } else {
                same("remove", key, map.remove(key), model.remove(key));
            }
        }

        View freeze() {
            View v = new View(map.freeze(), model);
            if (holder == null || holder != reading) { // else the new view is a copy, and the reader keeps the base
                if (holder != null) {
                    holder.revoked = true; // harmless if it was read already: it is no longer pending
                }
                holder = v;
            }
            pending.add(v);
            return v;
        }

        /** Reads a view as its writer would, at once or entry by entry with the node's work in between. */
        void read(View v) {
            pending.remove(v);
            if (v.revoked) {
                assertThatThrownBy(v.frozen::claim).as("seed %d", seed).isInstanceOf(IllegalStateException.class);
                return;
            }
            if (random.nextBoolean()) {
                assertThat(written(v.frozen)).as("seed %d: a view's entries", seed).containsExactlyEntriesOf(v.expected);
                return;
            }
            reading = v;
            Map<Bytes, Bytes> got = new TreeMap<>();
            Map<Bytes, Bytes> claimed = v.frozen.claim();
            try {
                for (Map.Entry<Bytes, Bytes> e : claimed.entrySet()) { // a change to the map under way would throw here
                    if (random.nextInt(3) == 0) {
                        step(false);
                    }
                    got.put(e.getKey(), e.getValue());
                }
            } finally {
                v.frozen.release();
                reading = null;
            }
            assertThat(got).as("seed %d: a view's entries", seed).isEqualTo(v.expected);
        }
    }
}
