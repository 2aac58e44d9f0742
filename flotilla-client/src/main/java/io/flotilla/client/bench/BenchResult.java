package io.flotilla.client.bench;

import io.flotilla.client.FlotillaException;
import io.flotilla.client.RequestRejectedException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What a run measured: latencies in microseconds of the successful calls, the failures by kind, and
 * the leader changes the nodes' status showed.
 */
public record BenchResult(BenchConfig config, long completed, long errors, Map<Failure, Long> failures, String firstError,
                          Duration elapsed, Histogram latencyMicros, LeaderChanges leaderChanges) {
    public BenchResult {
        failures = Map.copyOf(failures);
    }

    /** Why a call failed, as the command line's exit codes tell them apart. */
    public enum Failure {
        /** No answer or no leader in time; not applied. */
        UNAVAILABLE,
        /** Refused by the cluster or the client as invalid; not applied. */
        INVALID,
        /** The answer was lost; it may have been applied. */
        UNKNOWN_OUTCOME,
        /** Anything else: a bug. */
        OTHER;

        public static Failure of(Throwable error) {
            if (error instanceof FlotillaException e) {
                return e.mayHaveBeenApplied() ? UNKNOWN_OUTCOME : e instanceof RequestRejectedException ? INVALID : UNAVAILABLE;
            }
            return error instanceof IllegalArgumentException ? INVALID : OTHER;
        }
    }

    /** The most common kind of failure (the more serious one on a tie), or null if none failed. */
    public Failure dominantFailure() {
        Failure dominant = null;
        for (Failure kind : new Failure[] {Failure.OTHER, Failure.UNKNOWN_OUTCOME, Failure.UNAVAILABLE, Failure.INVALID}) {
            long count = failures.getOrDefault(kind, 0L);
            if (count > 0 && (dominant == null || count > failures.get(dominant))) {
                dominant = kind;
            }
        }
        return dominant;
    }

    public double throughput() {
        return completed / Math.max(1e-9, elapsed.toNanos() / 1e9);
    }

    /** Latency at a percentile, in milliseconds. */
    public double percentileMillis(double percentile) {
        return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getValueAtPercentile(percentile) / 1000.0;
    }

    public double maxMillis() {
        return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getMaxValue() / 1000.0;
    }

    public String text() {
        return String.format(java.util.Locale.ROOT,
                "%d requests in %.2f s: %.0f requests/s, %d errors%n"
                        + "latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f%n%s%s",
                completed, elapsed.toNanos() / 1e9, throughput(), errors,
                percentileMillis(50), percentileMillis(90), percentileMillis(99), percentileMillis(99.9), maxMillis(),
                leaderChanges.text(), firstError == null ? "" : String.format("%nfirst error: %s", firstError));
    }

    public Map<String, Object> json() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("workload", config.workload().name());
        json.put("readFraction", config.workload().readFraction());
        json.put("stale", config.stale());
        json.put("requests", config.timed() ? null : config.requests());
        json.put("durationSeconds", config.timed() ? round(config.duration().toMillis() / 1000.0) : null);
        json.put("warmup", config.warmup());
        json.put("clients", config.clients());
        json.put("keys", config.keys());
        json.put("keySize", config.keySize());
        json.put("valueSize", config.valueSize());
        json.put("completed", completed);
        json.put("errors", errors);
        Map<String, Long> byKind = new LinkedHashMap<>();
        for (Failure kind : Failure.values()) {
            byKind.put(kind.name().toLowerCase(java.util.Locale.ROOT), failures.getOrDefault(kind, 0L));
        }
        json.put("failures", byKind);
        json.put("elapsedSeconds", round(elapsed.toNanos() / 1e9));
        json.put("throughput", round(throughput()));
        Map<String, Object> latency = new LinkedHashMap<>();
        latency.put("p50", percentileMillis(50));
        latency.put("p90", percentileMillis(90));
        latency.put("p99", percentileMillis(99));
        latency.put("p99.9", percentileMillis(99.9));
        latency.put("max", maxMillis());
        latency.put("mean", round(latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getMean() / 1000.0));
        json.put("latencyMs", latency);
        json.putAll(leaderChanges.json());
        json.put("firstError", firstError);
        return json;
    }

    private static double round(double x) {
        return Math.round(x * 1000) / 1000.0;
    }
}
