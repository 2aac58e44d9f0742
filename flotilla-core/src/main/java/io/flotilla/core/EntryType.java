package io.flotilla.core;

/** What a log entry carries. The numeric codes are part of the wire and disk formats. */
public enum EntryType {
    /** A command for the state machine. */
    NORMAL(0),
    /** The empty entry a new leader appends to commit entries of earlier terms. */
    NOOP(1),
    /** A cluster configuration ({@link ClusterConfig}). */
    CONFIG(2);

    private final int code;

    EntryType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static EntryType ofCode(int code) {
        for (EntryType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown entry type " + code);
    }
}
