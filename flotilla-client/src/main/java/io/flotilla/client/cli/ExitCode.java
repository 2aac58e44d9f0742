package io.flotilla.client.cli;

/** The exit codes of {@code flotilla-client}, which scripts may rely on (the README and --help list them). */
public final class ExitCode {
    /** The command did what it was asked. */
    public static final int OK = 0;
    /** get or delete: the key is absent. */
    public static final int NOT_FOUND = 1;
    /** cas: the key did not hold the expected value (or presence); nothing was written. */
    public static final int CAS_MISMATCH = 2;
    /** No answer from the cluster within the timeout and retry budget: unreachable, or no leader. A write was NOT applied. */
    public static final int UNAVAILABLE = 3;
    /** Bad usage or arguments, or the cluster refused the request as invalid (e.g. an empty or oversized key). Not applied. */
    public static final int INVALID = 4;
    /** Gave up on a write whose answer was lost: it MAY HAVE BEEN APPLIED. Read the key to find out. */
    public static final int UNKNOWN_OUTCOME = 5;
    /** A bug in flotilla-client (run with --verbose for the stack trace). */
    public static final int INTERNAL = 70;

    private ExitCode() {
    }
}
