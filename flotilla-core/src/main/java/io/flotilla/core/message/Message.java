package io.flotilla.core.message;

/**
 * A Raft message between two nodes. Every message carries its sender's term; a node that sees a
 * higher term than its own learns of it from any message (Raft §5.1).
 */
public sealed interface Message
        permits RequestVote, VoteResponse, AppendEntries, AppendResponse, TimeoutNow, InstallSnapshot, SnapshotResponse,
        BootstrapProbe, BootstrapProbeResponse {

    /** The message kinds; the codes are part of the wire format. */
    enum Kind {
        REQUEST_VOTE(1), VOTE_RESPONSE(2), APPEND_ENTRIES(3), APPEND_RESPONSE(4), TIMEOUT_NOW(5),
        INSTALL_SNAPSHOT(6), SNAPSHOT_RESPONSE(7), BOOTSTRAP_PROBE(8), BOOTSTRAP_PROBE_RESPONSE(9);

        private final int code;

        Kind(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }
    }

    Kind kind();

    int from();

    int to();

    long term();
}
