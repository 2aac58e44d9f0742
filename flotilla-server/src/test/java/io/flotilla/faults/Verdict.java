package io.flotilla.faults;

import io.flotilla.core.check.CheckResult;
import io.flotilla.core.check.LinearizabilityChecker;
import io.flotilla.core.check.Operation;
import io.flotilla.core.check.Outcome;
import io.flotilla.core.check.RegisterModel;
import io.flotilla.core.check.RegisterOp;
import io.flotilla.core.check.RegisterResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How a recorded run ended, once every fault is healed: whether the cluster served a write and a read
 * again within a bound, a final linearizable read of every key (recorded, so the checker sees it),
 * the keys with acknowledged writes that read as absent, and the linearizability checker's verdict
 * on the whole history.
 */
record Verdict(boolean served, long finalWriteMs, List<String> unread, List<String> lost, List<HistoryRecorder.Recorded> history,
               CheckResult check, long checkMillis) {

    /** The client number of the final write and read; {@link #FINAL_READS} reads every key at the end. */
    static final int FINAL_WRITER = 100;
    static final int FINAL_READS = 101;

    /** Serves again (within {@code bound}), stops the recorder's clients, reads every key, checks the history. */
    static Verdict reach(ProcessCluster cluster, HistoryRecorder recorder, Duration bound) throws InterruptedException {
        long healedAt = System.nanoTime();
        boolean served = false;
        try (RegisterClient last = new RegisterClient.Native(cluster::clientOptions)) {
            for (int i = 0; i < 1000 && !served && System.nanoTime() - healedAt < bound.toNanos(); i++) {
                String value = "final-" + i;
                served = recorder.execute(FINAL_WRITER, last, new RegisterOp.Write("final", value)).outcome() == Outcome.OK
                        && recorder.execute(FINAL_WRITER, last, new RegisterOp.Read("final")).result() instanceof RegisterResult.Value v
                        && value.equals(v.value());
            }
            long finalWriteMs = (System.nanoTime() - healedAt) / 1_000_000;
            recorder.stop();
            List<String> unread = finalReads(recorder, last, bound);
            List<HistoryRecorder.Recorded> history = recorder.recorded();
            List<Operation<RegisterOp, RegisterResult>> ops = new ArrayList<>(history.size());
            history.forEach(r -> ops.add(r.toOperation()));
            long checkStart = System.nanoTime();
            CheckResult check = LinearizabilityChecker.check(new RegisterModel(), ops);
            long checkMillis = (System.nanoTime() - checkStart) / 1_000_000;
            return new Verdict(served, finalWriteMs, unread, lostWrites(history), history, check, checkMillis);
        }
    }

    boolean good() {
        return served && unread.isEmpty() && lost.isEmpty() && check.isLinearizable();
    }

    /** Completion times of the acknowledged writes, sorted, on the recorder's clock. */
    List<Long> acknowledgements() {
        List<Long> acks = new ArrayList<>();
        for (HistoryRecorder.Recorded r : history) {
            if (r.acknowledgedWrite() && r.client() < FINAL_WRITER) {
                acks.add(r.completedAt());
            }
        }
        java.util.Collections.sort(acks);
        return acks;
    }

    /** Reads every key once more, linearizably; returns keys never read. */
    private static List<String> finalReads(HistoryRecorder recorder, RegisterClient c, Duration bound) {
        List<String> unread = new ArrayList<>();
        long deadline = System.nanoTime() + bound.toNanos();
        for (String key : recorder.keys()) {
            boolean read = false;
            for (int i = 0; i < 20 && !read && System.nanoTime() < deadline; i++) {
                read = recorder.execute(FINAL_READS, c, new RegisterOp.Read(key)).outcome() == Outcome.OK;
            }
            if (!read) {
                unread.add(key);
            }
        }
        return unread;
    }

    /** Keys that some acknowledged write set but that the final read found absent (there are no deletes). */
    private static List<String> lostWrites(List<HistoryRecorder.Recorded> history) {
        Map<String, Boolean> acked = new TreeMap<>();
        Map<String, HistoryRecorder.Recorded> finalRead = new TreeMap<>();
        for (HistoryRecorder.Recorded r : history) {
            if (r.acknowledgedWrite()) {
                acked.put(r.op().key(), true);
            }
            if (r.client() == FINAL_READS && r.outcome() == Outcome.OK) {
                finalRead.put(r.op().key(), r);
            }
        }
        return acked.keySet().stream().filter(k -> finalRead.containsKey(k)
                && finalRead.get(k).result() instanceof RegisterResult.Value v && v.value() == null).toList();
    }
}
