package io.flotilla.faults;

/**
 * One fault as it happened. Times are on the history's clock (ns); {@code healedAt} is
 * {@link Long#MAX_VALUE} while the fault is active.
 */
record Fault(FaultKind kind, String detail, long injectedAt, long healedAt) {
    Fault healed(long at) {
        return new Fault(kind, detail, injectedAt, at);
    }

    @Override
    public String toString() {
        String held = healedAt == Long.MAX_VALUE ? "active" : String.format("for %5.2fs", (healedAt - injectedAt) / 1e9);
        return String.format("%-16s %-38s at %7.2fs %s", kind, detail, injectedAt / 1e9, held);
    }
}
