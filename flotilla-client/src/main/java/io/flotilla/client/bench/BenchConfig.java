package io.flotilla.client.bench;

/**
 * One benchmark run: {@code requests} calls (after {@code warmup} unmeasured ones) with
 * {@code clients} in flight at a time, over {@code keys} keys of {@code keySize} bytes (zero-padded
 * numbers) and values of {@code valueSize} bytes.
 */
public record BenchConfig(long requests, long warmup, int clients, int keys, int keySize, int valueSize, Workload workload,
                          boolean stale) {
    public BenchConfig {
        if (requests < 1 || warmup < 0 || clients < 1 || keys < 1 || valueSize < 0) {
            throw new IllegalArgumentException("--requests, --clients and --keys must be positive, --warmup and --value-size not negative");
        }
        int digits = Integer.toString(keys - 1).length();
        if (keySize < digits) {
            throw new IllegalArgumentException("--key-size " + keySize + " is too short to number " + keys + " keys (needs " + digits + ")");
        }
    }
}
