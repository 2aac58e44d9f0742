package io.flotilla.faults;

import io.flotilla.core.check.CheckResult;
import io.flotilla.core.check.Outcome;
import io.flotilla.core.check.RegisterOp;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one run did and found: operations by outcome, faults by kind, the checker's verdict, and per
 * kind of fault the unavailability window: the longest stretch without an acknowledged write from
 * the moment a fault was injected until the next fault (or the end of the run).
 */
record Summary(String schedule, long seed, Map<String, Map<Outcome, Integer>> operations, Map<FaultKind, List<Long>> windowsMs,
               Map<FaultKind, List<Long>> firstAckMs,
               CheckResult check, long checkMillis, long finalWriteMs, String replay) {

    static Summary of(FaultSchedule schedule, List<HistoryRecorder.Recorded> history, List<Fault> faults, long endedAt,
                      CheckResult check, long checkMillis, long finalWriteMs, String replay) {
        Map<String, Map<Outcome, Integer>> ops = new TreeMap<>();
        List<Long> acks = new ArrayList<>();
        for (HistoryRecorder.Recorded r : history) {
            String type = r.op() instanceof RegisterOp.Read ? "read" : r.op() instanceof RegisterOp.Write ? "write" : "cas";
            ops.computeIfAbsent(type, k -> new EnumMap<>(Outcome.class)).merge(r.outcome(), 1, Integer::sum);
            if (r.acknowledgedWrite()) {
                acks.add(r.completedAt());
            }
        }
        Collections.sort(acks);
        Map<FaultKind, List<Long>> windows = new EnumMap<>(FaultKind.class);
        Map<FaultKind, List<Long>> firstAcks = new EnumMap<>(FaultKind.class);
        for (int i = 0; i < faults.size(); i++) {
            long from = faults.get(i).injectedAt();
            long to = i + 1 < faults.size() ? faults.get(i + 1).injectedAt() : endedAt;
            windows.computeIfAbsent(faults.get(i).kind(), k -> new ArrayList<>()).add(longestGap(acks, from, to) / 1_000_000);
            int next = Collections.binarySearch(acks, from);
            next = next < 0 ? -next - 1 : next;
            long first = next < acks.size() ? acks.get(next) - from : endedAt - from;
            firstAcks.computeIfAbsent(faults.get(i).kind(), k -> new ArrayList<>()).add(first / 1_000_000);
        }
        return new Summary(schedule.toString(), schedule.seed(), ops, windows, firstAcks, check, checkMillis, finalWriteMs, replay);
    }

    /** The longest stretch in [from, to) with no acknowledgement, counting from {@code from} to the first ack after it. */
    static long longestGap(List<Long> sortedAcks, long from, long to) {
        long longest = 0;
        long previous = from;
        int i = Collections.binarySearch(sortedAcks, from);
        for (i = i < 0 ? -i - 1 : i; i < sortedAcks.size(); i++) {
            long at = sortedAcks.get(i);
            longest = Math.max(longest, at - previous);
            if (at >= to) {
                return longest;
            }
            previous = at;
        }
        return Math.max(longest, to - previous); // no ack until the end
    }

    int count(Outcome outcome) {
        return operations.values().stream().mapToInt(m -> m.getOrDefault(outcome, 0)).sum();
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        out.append("==== fault injection summary: ").append(schedule).append(" ====\n");
        out.append(String.format("operations: %d ok, %d failed, %d unknown%n", count(Outcome.OK), count(Outcome.FAILED),
                count(Outcome.UNKNOWN)));
        operations.forEach((type, m) -> out.append(String.format("  %-5s %6d ok %6d failed %6d unknown%n", type,
                m.getOrDefault(Outcome.OK, 0), m.getOrDefault(Outcome.FAILED, 0), m.getOrDefault(Outcome.UNKNOWN, 0))));
        out.append("faults injected: ").append(windowsMs.values().stream().mapToInt(List::size).sum()).append('\n');
        out.append("  (per kind: longest stretch without an acknowledged write from injection to the next fault, and time from\n"
                + "   injection to the first acknowledged write; max / median over the faults of that kind)\n");
        windowsMs.forEach((kind, w) -> {
            List<Long> sorted = new ArrayList<>(w);
            Collections.sort(sorted);
            List<Long> first = new ArrayList<>(firstAckMs.get(kind));
            Collections.sort(first);
            out.append(String.format("  %-16s x%-3d longest stretch max %5d ms, median %5d ms | first ack max %5d ms, median %5d ms%n",
                    kind, w.size(), sorted.get(sorted.size() - 1), sorted.get(sorted.size() / 2),
                    first.get(first.size() - 1), first.get(first.size() / 2)));
        });
        out.append(String.format("final write+read after healing: %d ms%n", finalWriteMs));
        out.append(String.format("check: %s (%d operations, %d keys, %d steps, %d ms)%n", check.verdict(), check.operations(),
                check.partitions(), check.steps(), checkMillis));
        if (!check.isLinearizable()) {
            out.append(check.report());
        }
        out.append("replay: ").append(replay).append('\n');
        return out.toString();
    }
}
