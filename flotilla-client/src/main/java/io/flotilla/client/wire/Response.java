package io.flotilla.client.wire;

import io.flotilla.core.Bytes;
import java.util.List;
import java.util.Optional;

/** A node's answer to one {@link Request}; every kind has its {@link Code}. */
public sealed interface Response {
    Code code();

    /** A GET found the key. */
    record Value(Bytes value) implements Response {
        @Override
        public Code code() {
            return Code.OK;
        }
    }

    /** The answer to {@link Request.DeleteMany}: how many of the keys existed, and are now gone. */
    record Count(long count) implements Response {
        public Count {
            if (count < 1) {
                throw new IllegalArgumentException("a count answers only when a key existed (else NOT_FOUND), got " + count);
            }
        }

        @Override
        public Code code() {
            return Code.OK;
        }
    }

    /** The answer to {@link Request.GetMany}: each key's value in the order asked, empty if absent. */
    record Values(List<Optional<Bytes>> values) implements Response {
        public Values {
            values = List.copyOf(values);
        }

        @Override
        public Code code() {
            return Code.OK;
        }
    }

    /** A write completed (OK, NOT_FOUND for a DELETE of an absent key, CAS_MISMATCH), or a GET missed (NOT_FOUND). */
    record Outcome(Code code) implements Response {
        public Outcome {
            if (code != Code.OK && code != Code.NOT_FOUND && code != Code.CAS_MISMATCH) {
                throw new IllegalArgumentException(code + " is not an outcome");
            }
        }
    }

    /** The request was not carried out (or, for UNKNOWN_OUTCOME, may not have been); {@code message} says why. */
    record Failure(Code code, String message) implements Response {
        public Failure {
            if (code == Code.OK || code == Code.NOT_FOUND || code == Code.CAS_MISMATCH || code == Code.NOT_LEADER) {
                throw new IllegalArgumentException(code + " is not a failure");
            }
        }
    }

    /**
     * This node does not lead and did not forward the request; {@code leaderId} (0 if unknown) does,
     * at {@code leaderAddress} ("host:port", empty if unknown). Not applied.
     */
    record NotLeader(int leaderId, String leaderAddress, String message) implements Response {
        @Override
        public Code code() {
            return Code.NOT_LEADER;
        }
    }

    /** The answer to a {@link Request.StatusQuery}. */
    record Status(NodeStatus status) implements Response {
        @Override
        public Code code() {
            return Code.OK;
        }
    }

    /** The answer to {@link Request.MemberList} and to a successful {@link Request.MemberChange}. */
    record Members(Membership membership) implements Response {
        @Override
        public Code code() {
            return Code.OK;
        }
    }

    /** The answer to {@link Request.SnapshotBegin}: the snapshot held open for reading. */
    record Snapshot(SnapshotInfo info) implements Response {
        @Override
        public Code code() {
            return Code.OK;
        }
    }

    /** The answer to {@link Request.SnapshotRead}: {@code data} from {@code offset}, empty at the end. */
    record SnapshotData(long offset, Bytes data) implements Response {
        @Override
        public Code code() {
            return Code.OK;
        }
    }

    Outcome OK = new Outcome(Code.OK);
    Outcome NOT_FOUND = new Outcome(Code.NOT_FOUND);
    Outcome CAS_MISMATCH = new Outcome(Code.CAS_MISMATCH);

    /** The outcome of a request; the numbers are part of the wire format (docs/protocol.md). */
    public enum Code {
        /** Done; a GET carries the value. */
        OK(0, false),
        /** GET or DELETE of a key that is absent (a DELETE is still a completed write). */
        NOT_FOUND(1, false),
        /** CAS found another value (or presence) than expected; nothing was written. */
        CAS_MISMATCH(2, false),
        /** No leader is known right now (an election is running): retry shortly. Not applied. */
        NO_LEADER(3, true),
        /** This node cannot reach the leader it knows; {@code leaderId} names it. Not applied. */
        NOT_LEADER(4, true),
        /** The request is malformed or over a limit; {@code message} says which. Not applied. */
        INVALID(5, false),
        /** The node is overloaded or shutting down: retry, perhaps elsewhere. Not applied. */
        UNAVAILABLE(6, true),
        /**
         * The cluster forgot the write's session (idle too long, or too many sessions) before this retry
         * arrived: the first attempt may or may not have been applied. Start a new session.
         */
        SESSION_EXPIRED(7, false),
        /** The node gave up waiting for the outcome: the write may or may not have been applied. */
        UNKNOWN_OUTCOME(8, true);

        private final int wire;
        private final boolean retryable;

        Code(int wire, boolean retryable) {
            this.wire = wire;
            this.retryable = retryable;
        }

        public int wire() {
            return wire;
        }

        /** A client may retry the same request (with the same session numbers). */
        public boolean retryable() {
            return retryable;
        }

        public static Optional<Code> ofWire(int wire) {
            for (Code c : values()) {
                if (c.wire == wire) {
                    return Optional.of(c);
                }
            }
            return Optional.empty();
        }
    }

}
