package io.flotilla.client.bench;

import java.util.Locale;

/**
 * What the benchmark asks for: {@code write} (all sets), {@code read} (all gets) or
 * {@code mixed[:R]}, a fraction R of gets (default 0.5) and the rest sets.
 */
public record Workload(String name, double readFraction) {
    public Workload {
        if (!(readFraction >= 0 && readFraction <= 1)) {
            throw new IllegalArgumentException("the read fraction must be between 0 and 1, got " + readFraction);
        }
    }

    public static Workload parse(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("write")) {
            return new Workload("write", 0);
        }
        if (s.equals("read")) {
            return new Workload("read", 1);
        }
        if (s.equals("mixed")) {
            return new Workload("mixed", 0.5);
        }
        if (s.startsWith("mixed:")) {
            try {
                return new Workload("mixed", Double.parseDouble(s.substring(6)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + spec + "': the ratio after mixed: is the fraction of reads, e.g. mixed:0.9");
            }
        }
        throw new IllegalArgumentException("'" + spec + "' is not a workload: write, read or mixed[:READ_FRACTION]");
    }

    @Override
    public String toString() {
        return name.equals("mixed") ? "mixed:" + readFraction : name;
    }
}
