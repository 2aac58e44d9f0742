package io.flotilla.core.protocol;

import java.util.ArrayDeque;

/**
 * A leader's view of one follower's log, in one of three states. In PROBE the leader sends one
 * AppendEntries at a time until the logs are known to agree; in REPLICATE it streams batches
 * optimistically, at most {@code maxInflight} unacknowledged at once; in SNAPSHOT the follower needs
 * entries the leader has compacted away, so it is sent the newest snapshot in chunks
 * ({@link SnapshotSender}, the {@code snapshot*} fields) and probed from the snapshot's index once it
 * has installed it.
 */
final class Progress {
    enum State { PROBE, REPLICATE, SNAPSHOT }

    long match;
    long next;
    State state = State.PROBE;
    /** In PROBE: a probe is out and no answer or heartbeat has come since. */
    boolean probeSent;
    /** Last index of each unacknowledged batch, oldest first (REPLICATE only). */
    final ArrayDeque<Long> inflight = new ArrayDeque<>();
    /** Heard from since the last CheckQuorum round. */
    boolean recentActive;
    /** Leader ticks since this follower last answered (unlike {@link #recentActive}, not reset in rounds). */
    int ticksSinceHeard;
    /** Highest heartbeat round this follower has answered in the current term. */
    long ackedRound;
    /** Commit index last sent; a higher commit is worth a message on its own. */
    long sentCommit;
    /** A heartbeat is due: send something even if there is nothing new. */
    boolean heartbeatDue;
    /** Removed from the configuration: heartbeats that found it told of its removal (the leader's forgetRemovedFollowers). */
    int removalNotices;

    /** In SNAPSHOT: which snapshot is being sent, how far the follower has acknowledged it, how far we sent. */
    long snapshotIndex;
    long snapshotAcked;
    long snapshotSent;
    boolean snapshotDoneSent;
    /** In SNAPSHOT: the follower acknowledged something since the last heartbeat. */
    boolean snapshotProgressed;
    /** In SNAPSHOT: a heartbeat interval passed; time to check that the transfer progressed. */
    boolean snapshotCheckDue;
    /**
     * In SNAPSHOT: the transfer stalled (a chunk was lost, or the follower is silent), so one small
     * chunk goes per heartbeat until the follower acknowledges one; then the window opens again.
     */
    boolean snapshotProbing;
    /**
     * In SNAPSHOT: the lowest offset the follower reported below {@link #snapshotAcked} since the last
     * heartbeat, or -1. Such an answer is usually stale (overtaken by later ones on the way); if the
     * follower really lost what it had, no progress follows, and the next heartbeat resumes from here.
     */
    long snapshotBehind = -1;

    Progress(long next) {
        this.next = next;
    }

    /** The follower answered. */
    void heardFrom() {
        recentActive = true;
        ticksSinceHeard = 0;
    }

    /** Records an acknowledgement of {@code index}; false if it says nothing new. */
    boolean acknowledge(long index) {
        boolean advanced = index > match;
        if (advanced) {
            match = index;
        }
        next = Math.max(next, index + 1);
        while (!inflight.isEmpty() && inflight.peekFirst() <= index) {
            inflight.pollFirst();
        }
        return advanced;
    }

    void becomeProbe(long nextIndex) {
        state = State.PROBE;
        next = Math.max(match + 1, nextIndex);
        probeSent = false;
        inflight.clear();
    }

    /**
     * The follower no longer holds what it acknowledged (or an old rejection says so): probe again from
     * {@code nextIndex}, believing it matches only below. Lowering the match index is safe: the commit
     * index never goes back, and a quorum is counted on what followers acknowledge from now on.
     */
    void forgetMatch(long nextIndex) {
        match = Math.min(match, nextIndex - 1);
        becomeProbe(nextIndex);
    }

    void becomeReplicate() {
        state = State.REPLICATE;
        next = match + 1;
        probeSent = false;
        inflight.clear();
    }

    /** The follower needs entries we no longer hold: send it the snapshot at {@code index} from the start. */
    void becomeSnapshot(long index) {
        state = State.SNAPSHOT;
        snapshotIndex = index;
        snapshotAcked = 0;
        snapshotSent = 0;
        snapshotDoneSent = false;
        snapshotProgressed = true;
        snapshotCheckDue = false;
        snapshotProbing = false;
        snapshotBehind = -1;
        inflight.clear();
    }

    boolean canSend(int maxInflight) {
        return state == State.PROBE ? !probeSent : inflight.size() < maxInflight;
    }

    /** Notes that a batch ending at {@code lastIndex} went out. */
    void sent(long lastIndex) {
        if (state == State.PROBE) {
            probeSent = true;
        } else {
            inflight.addLast(lastIndex);
            next = lastIndex + 1;
        }
    }

    @Override
    public String toString() {
        return state + " match=" + match + " next=" + next + " inflight=" + inflight.size();
    }
}
