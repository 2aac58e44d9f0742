package io.flotilla.core.storage;

import io.flotilla.core.Bytes;
import io.flotilla.core.EntryType;
import io.flotilla.core.LogEntry;
import java.util.ArrayList;
import java.util.List;

/** Log entries whose payload is derived from index and term, so any entry read back can be checked. */
final class TestEntries {
    static final Identity IDENTITY = new Identity("test-cluster", 1);

    private TestEntries() {
    }

    static LogEntry entry(long index, long term) {
        return new LogEntry(index, term, EntryType.NORMAL, payload(index, term));
    }

    /** Entries {@code from..to} inclusive, all in {@code term}. */
    static List<LogEntry> entries(long from, long to, long term) {
        List<LogEntry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            out.add(entry(i, term));
        }
        return out;
    }

    /** A payload of 8 to 107 bytes that names its index and term. */
    static Bytes payload(long index, long term) {
        StringBuilder sb = new StringBuilder("i" + index + "t" + term + ":");
        int pad = (int) ((index * 31 + term * 7) % 100);
        while (sb.length() < 8 + pad) {
            sb.append((char) ('a' + sb.length() % 26));
        }
        return Bytes.utf8(sb.toString());
    }
}
