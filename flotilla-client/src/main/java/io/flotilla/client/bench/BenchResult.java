package io.flotilla.client.bench;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** What a run measured: latencies in microseconds of the successful calls, and the failures. */
public record BenchResult(BenchConfig config, long completed, long errors, String firstError, Duration elapsed, Histogram latencyMicros) {
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
                        + "latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f%s",
                completed, elapsed.toNanos() / 1e9, throughput(), errors,
                percentileMillis(50), percentileMillis(90), percentileMillis(99), percentileMillis(99.9), maxMillis(),
                firstError == null ? "" : String.format("%nfirst error: %s", firstError));
    }

    public Map<String, Object> json() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("workload", config.workload().name());
        json.put("readFraction", config.workload().readFraction());
        json.put("stale", config.stale());
        json.put("requests", config.requests());
        json.put("warmup", config.warmup());
        json.put("clients", config.clients());
        json.put("keys", config.keys());
        json.put("keySize", config.keySize());
        json.put("valueSize", config.valueSize());
        json.put("completed", completed);
        json.put("errors", errors);
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
        json.put("firstError", firstError);
        return json;
    }

    private static double round(double x) {
        return Math.round(x * 1000) / 1000.0;
    }
}
