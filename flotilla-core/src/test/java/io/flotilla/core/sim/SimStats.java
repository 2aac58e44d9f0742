package io.flotilla.core.sim;

import java.util.EnumMap;
import java.util.Map;

/** Counters of what a simulation run did; runs add up with {@link #add}. */
final class SimStats {
    long seeds;
    long steps;
    long messagesSent;
    long messagesDelivered;
    long crashes;
    long entriesLostInCrashes;
    long elections;
    long operations;
    long operationsOk;
    long operationsUnknown;
    long operationsChecked;
    long undecided;
    /** Commands sent again after an attempt's answer was lost, answers lost on purpose, results that said "unknown". */
    long retries;
    long answersLost;
    long resultsOfUnknownOutcome;
    long virtualTime;
    /** Runs whose nodes took snapshots (the others ran with snapshots off). */
    long seedsWithSnapshots;
    long snapshotsTaken;
    long snapshotsCommitted;
    long snapshotsInstalled;
    /** Installed snapshots whose last entry the log did not hold, so the whole log went. */
    long logsReplacedBySnapshots;
    long restartsFromSnapshots;
    long snapshotsChecked;
    long snapshotChunksSent;
    long snapshotChunksLost;
    long compactions;
    long entriesCompacted;
    /** Nodes that lost their state and found the cluster existed, so refused to rejoin. */
    long rejoinsRefused;
    /** Nodes that lost their state before any election, and founded the cluster again. */
    long refounded;
    long seedsWithMembership;
    /** Membership changes committed, and refused or lost (the leader's answer to the proposer). */
    long membershipChanges;
    long membershipChangesRefused;
    final Map<FaultKind, Long> faults = new EnumMap<>(FaultKind.class);

    void fault(FaultKind kind) {
        faults.merge(kind, 1L, Long::sum);
    }

    void add(SimStats o) {
        seeds += o.seeds;
        steps += o.steps;
        messagesSent += o.messagesSent;
        messagesDelivered += o.messagesDelivered;
        crashes += o.crashes;
        entriesLostInCrashes += o.entriesLostInCrashes;
        elections += o.elections;
        operations += o.operations;
        operationsOk += o.operationsOk;
        operationsUnknown += o.operationsUnknown;
        operationsChecked += o.operationsChecked;
        undecided += o.undecided;
        retries += o.retries;
        answersLost += o.answersLost;
        resultsOfUnknownOutcome += o.resultsOfUnknownOutcome;
        virtualTime += o.virtualTime;
        seedsWithSnapshots += o.seedsWithSnapshots;
        snapshotsTaken += o.snapshotsTaken;
        snapshotsCommitted += o.snapshotsCommitted;
        snapshotsInstalled += o.snapshotsInstalled;
        logsReplacedBySnapshots += o.logsReplacedBySnapshots;
        restartsFromSnapshots += o.restartsFromSnapshots;
        snapshotsChecked += o.snapshotsChecked;
        snapshotChunksSent += o.snapshotChunksSent;
        snapshotChunksLost += o.snapshotChunksLost;
        compactions += o.compactions;
        entriesCompacted += o.entriesCompacted;
        rejoinsRefused += o.rejoinsRefused;
        refounded += o.refounded;
        seedsWithMembership += o.seedsWithMembership;
        membershipChanges += o.membershipChanges;
        membershipChangesRefused += o.membershipChangesRefused;
        o.faults.forEach((k, v) -> faults.merge(k, v, Long::sum));
    }

    @Override
    public String toString() {
        return String.format("%d seeds, %d steps, %d virtual time units, %d messages sent (%d delivered), "
                        + "faults %s, %d crashes (%d unsynced entries lost), %d elections, %d client operations "
                        + "(%d ok, %d unknown, %d failed; %d checked for linearizability, %d undecided); "
                        + "snapshots on in %d seeds: %d taken, %d committed, %d installed from a leader (%d replacing the whole log; "
                        + "%d chunks sent, %d lost), %d restarts from a snapshot, %d states checked against the replica, "
                        + "%d compactions (%d entries); after a lost disk %d rejoins refused, %d founded again; "
                        + "membership changes in %d seeds: %d committed, %d refused or lost",
                seeds, steps, virtualTime, messagesSent, messagesDelivered, faults, crashes, entriesLostInCrashes,
                elections, operations, operationsOk, operationsUnknown, operations - operationsOk - operationsUnknown,
                operationsChecked, undecided, seedsWithSnapshots, snapshotsTaken, snapshotsCommitted, snapshotsInstalled,
                logsReplacedBySnapshots, snapshotChunksSent, snapshotChunksLost, restartsFromSnapshots, snapshotsChecked,
                compactions, entriesCompacted, rejoinsRefused, refounded, seedsWithMembership, membershipChanges,
                membershipChangesRefused)
                + (retries + answersLost == 0 ? "" : String.format("; %d commands retried (%d answers lost on purpose), "
                + "%d results of unknown outcome", retries, answersLost, resultsOfUnknownOutcome));
    }
}
