package io.flotilla.core.protocol;

import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.EntryType;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import io.flotilla.core.Member;
import io.flotilla.core.MembershipChange;
import io.flotilla.core.NodeHaltedException;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.StorageReader;
import io.flotilla.core.message.AppendEntries;
import io.flotilla.core.message.AppendResponse;
import io.flotilla.core.message.BootstrapProbe;
import io.flotilla.core.message.BootstrapProbeResponse;
import io.flotilla.core.message.InstallSnapshot;
import io.flotilla.core.message.Message;
import io.flotilla.core.message.RequestVote;
import io.flotilla.core.message.SnapshotResponse;
import io.flotilla.core.message.TimeoutNow;
import io.flotilla.core.message.VoteResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Raft node's protocol logic: a deterministic state machine with no threads, no clock and no
 * I/O. Events go in ({@link #tick()}, {@link #step(Message)}, {@link #propose(Bytes)},
 * {@link #read(long)}, {@link #transferLeadership(int)}); effects come out as a {@link Ready}, which
 * the caller carries out and then acknowledges with {@link #advance(Ready)}. Events may go on
 * arriving between {@code ready()} and {@code advance()} (while the Ready's writes run elsewhere):
 * their effects wait for the next Ready, except what {@link #takeMessages()} hands out at once; only
 * a second {@code ready()} must wait for the {@code advance()}. The node only reads its storage
 * (a {@link StorageReader}); the caller writes it.
 *
 * <p>Randomness (election timeouts) comes only from the injected generator, so a seed replays a run.
 */
public final class RaftNode {
    /** The id meaning "nobody". */
    public static final int NONE = 0;
    private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);

    private final RaftConfig config;
    private final int id;
    private final RandomGenerator random;
    private final RaftLog log;
    private final StorageReader storage;
    private final SnapshotSender snapshots;
    /** Follower only: the snapshot being received, and the offset expected next. */
    private final SnapshotReceiver receiver = new SnapshotReceiver();
    /** Follower only: a received snapshot handed out to be installed, until advance(). */
    private SnapshotMeta installing;

    private long term;
    private int votedFor;
    private int leader = NONE;
    private Role role = Role.FOLLOWER;
    /** The configurations in the log (the newest is the one in force), and a joining node's identity check. */
    private final Membership configs;
    /** Set while a node that started with no state waits to learn whether it may found the cluster. */
    private BootstrapCheck bootstrapCheck;
    /** Messages dropped because they contradict what this node knows (forged, corrupt or buggy senders). */
    private long droppedInvalid;
    /** The highest commit index the leader of this term announced; what a follower's lag is measured against. */
    private long leaderCommit;

    private int electionElapsed;
    /**
     * Elections this node's timer started in a row without hearing of a leader since: each doubles the
     * next timeout, up to 8 times, so that a disk or network slower than one timeout (a vote waits for
     * two syncs) still lets some election finish. Any leader heard of resets it.
     */
    private int fruitlessElections;
    private int heartbeatElapsed;
    private int electionTimeout;
    /** Votes received in the current (pre-)election: voter id to granted. */
    private final Map<Integer, Boolean> votes = new TreeMap<>();

    /** Leader only: each other voter's progress, by id (sorted, so message order is deterministic). */
    private final Map<Integer, Progress> progress = new TreeMap<>();
    /** Highest index this node has made durable; a leader counts itself up to here. */
    private long persistedIndex;
    private int transferee = NONE;
    private int transferElapsed;

    /** Leader only: linearizable reads and the heartbeat rounds that confirm them. */
    private final ReadIndex reads = new ReadIndex();

    private final List<Message> messages = new ArrayList<>();
    private final List<Message> messagesAfterSync = new ArrayList<>();
    private final List<ReadOutcome> readOutcomes = new ArrayList<>();
    private final List<InstallSnapshot> snapshotChunks = new ArrayList<>();
    private HardState savedHardState;
    private Ready.SoftState reportedSoftState;
    private Ready outstanding;

    /**
     * Restores a node from storage. If the storage is empty, the node waits to be added to an
     * existing cluster as a learner (see {@link MembershipChange.AddLearner}).
     */
    public RaftNode(RaftConfig config, StorageReader storage, RandomGenerator random) {
        this(config, storage, random, null);
    }

    /**
     * Restores a node from storage or, if the storage is empty, prepares to found the cluster of
     * {@code founders}: the node first asks the other founders whether the cluster already exists
     * (see {@link BootstrapCheck}), takes no part in it meanwhile, and writes the founding
     * configuration only once a majority of them answered that they are fresh too. If the cluster
     * exists, {@link #step} throws {@link NodeHaltedException}: the node lost its state and must not
     * rejoin as the member it was.
     *
     * @param storage  read only: the node never writes it; whoever drives the node writes what each
     *                 {@link Ready} asks for (through {@link io.flotilla.core.Storage}) before {@link #advance}
     * @param founders the founding configuration, or null if the storage must already hold one
     */
    public RaftNode(RaftConfig config, StorageReader storage, RandomGenerator random, ClusterConfig founders) {
        this.config = config;
        this.id = config.id();
        this.random = random;
        this.log = new RaftLog(storage);
        this.storage = storage;
        this.snapshots = new SnapshotSender(storage, config.maxBatchBytes());
        this.configs = new Membership(id);
        HardState hs = storage.hardState();
        this.term = hs.term();
        this.votedFor = hs.votedFor();
        this.savedHardState = hs;
        this.persistedIndex = storage.lastIndex();
        resetElectionTimeout();
        if (founders != null && storage.isEmpty()) {
            this.bootstrapCheck = new BootstrapCheck(id, founders);
            LOG.info("node {} has no state: asking founders {} whether the cluster exists before founding it", id,
                    bootstrapCheck.unanswered());
            maybeBootstrap();
        } else {
            configs.restore(log, storage.latestSnapshot().orElse(null));
        }
    }

    // ---- events ------------------------------------------------------------------------------

    /** Advances logical time by one tick. */
    public void tick() {
        if (bootstrapCheck != null) {
            if (electionElapsed > 0 && electionElapsed % (100 * config.heartbeatTicks()) == 0) {
                LOG.info("node {} still has no state and waits for founders {} to answer whether the cluster exists",
                        id, bootstrapCheck.unanswered());
            }
            if (electionElapsed++ % config.heartbeatTicks() == 0) {
                for (int peer : bootstrapCheck.unanswered()) {
                    messages.add(new BootstrapProbe(id, peer, 0));
                }
            }
        } else if (role == Role.LEADER) {
            tickLeader();
        } else {
            if (!writingHardState()) {
                // While its own term or vote is being synced this node could not act on a timeout anyway
                // (a vote or a campaign leaves only once durable): a disk slower than the timeout would
                // otherwise start election after election, each overtaking the last.
                electionElapsed++;
            }
            if (electionElapsed >= electionTimeout && configs.latest().isVoter(id)) {
                campaign(config.preVote(), false);
                fruitlessElections = Math.min(fruitlessElections + 1, 3);
            }
            if (configs.joining() && electionElapsed % (100 * config.heartbeatTicks()) == 0) {
                LOG.info("node {} waits to be added to the cluster: {}", id, leader == NONE
                        ? "no leader has contacted it yet" : "leader " + leader + " has not sent a configuration naming it yet");
            }
        }
    }

    private void tickLeader() {
        heartbeatElapsed++;
        electionElapsed++;
        progress.values().forEach(p -> p.ticksSinceHeard++);
        if (transferee != NONE && ++transferElapsed >= config.electionTicks()) {
            transferee = NONE; // the transfer timed out; take proposals again
        }
        if (electionElapsed >= config.electionTicks()) {
            electionElapsed = 0;
            if (config.checkQuorum() && !quorumActive()) {
                becomeFollower(term, NONE);
                return;
            }
            progress.values().forEach(p -> p.recentActive = false);
        }
        if (heartbeatElapsed >= config.heartbeatTicks()) {
            heartbeatElapsed = 0;
            forgetRemovedFollowers();
            for (Progress p : progress.values()) {
                p.heartbeatDue = true;
                p.snapshotCheckDue = true;
                p.probeSent = false;
            }
            promoteCaughtUpLearner();
        }
    }

    /** Takes a message from another node. */
    public void step(Message m) {
        if (m.to() != id || m.from() == id) {
            return;
        }
        if (m instanceof BootstrapProbe) {
            // After the sync, so that the term told is durable.
            messagesAfterSync.add(new BootstrapProbeResponse(id, m.from(), term, log.lastIndex()));
            return;
        }
        if (m instanceof BootstrapProbeResponse r) {
            if (bootstrapCheck != null) {
                bootstrapCheck.answer(r);
                maybeBootstrap();
            }
            return;
        }
        if (bootstrapCheck != null) {
            return; // no state yet: neither vote, acknowledge nor learn a term until bootstrapped
        }
        if (configs.joining() && m instanceof RequestVote) {
            // Not added yet: it may be a member that lost its state under the same id, whose vote with
            // an empty log could elect a leader without committed entries. Only a leader's entries count.
            return;
        }
        if (m instanceof TimeoutNow && m.term() > term) {
            // A leader hands over only to a node that holds its last entry, so knows its term: from a
            // higher term, this is not a hand-over but a way to make this node disrupt the cluster.
            dropInvalid(m, "it hands over term " + m.term() + ", which this node (term " + term + ") has not seen");
            return;
        }
        if (m.term() > term) {
            if (m instanceof RequestVote rv) {
                boolean inLease = config.checkQuorum() && leader != NONE && electionElapsed < config.electionTicks();
                if (inLease && !rv.transfer()) {
                    // We hear a leader: this candidate cannot win a fair election, so it must not disturb us.
                    messagesAfterSync.add(new VoteResponse(id, m.from(), term, false, rv.preVote()));
                    return;
                }
                if (!rv.preVote()) {
                    // Keep the election timer running (Raft §5.2: only a leader or a granted vote resets
                    // it). Otherwise a candidate with a stale log and a fast clock, which cannot win,
                    // keeps resetting the nodes that could, and no leader is ever elected.
                    int elapsed = electionElapsed;
                    becomeFollower(m.term(), NONE);
                    electionElapsed = elapsed;
                }
            } else if (m instanceof VoteResponse vr && vr.preVote() && vr.granted()) {
                // A granted pre-vote carries the term we would campaign in; nothing to learn from it.
            } else {
                boolean fromLeader = m instanceof AppendEntries || m instanceof TimeoutNow || m instanceof InstallSnapshot;
                becomeFollower(m.term(), fromLeader ? m.from() : NONE);
            }
        } else if (m.term() < term) {
            if (m instanceof AppendEntries ae) {
                // A deposed leader: tell it our term so it steps down. Round 0, not the old term's round:
                // if the sender leads our term by now, an echoed round would confirm its reads falsely.
                messagesAfterSync.add(AppendResponse.reject(id, m.from(), term, ae.prevLogIndex(), 0, 0, 0));
            } else if (m instanceof RequestVote rv && rv.preVote()) {
                messagesAfterSync.add(new VoteResponse(id, m.from(), term, false, true));
            } else if (m instanceof InstallSnapshot is) {
                messagesAfterSync.add(new SnapshotResponse(id, m.from(), term, is.meta().index(), 0, false));
            }
            return;
        }

        switch (m.kind()) {
            case REQUEST_VOTE -> handleRequestVote((RequestVote) m);
            case VOTE_RESPONSE -> handleVoteResponse((VoteResponse) m);
            case APPEND_ENTRIES -> handleAppendEntries((AppendEntries) m);
            case APPEND_RESPONSE -> handleAppendResponse((AppendResponse) m);
            case TIMEOUT_NOW -> handleTimeoutNow((TimeoutNow) m);
            case INSTALL_SNAPSHOT -> handleInstallSnapshot((InstallSnapshot) m);
            case SNAPSHOT_RESPONSE -> handleSnapshotResponse((SnapshotResponse) m);
        }
    }

    /** Appends a command to the log if this node leads. */
    public ProposeOutcome propose(Bytes command) {
        return propose(EntryType.NORMAL, command);
    }

    private ProposeOutcome propose(EntryType type, Bytes data) {
        if (role != Role.LEADER) {
            return new ProposeOutcome.NotLeader(leader);
        }
        if (transferee != NONE) {
            return new ProposeOutcome.Transferring(transferee);
        }
        LogEntry entry = new LogEntry(log.lastIndex() + 1, term, type, data);
        appendOwn(entry);
        return new ProposeOutcome.Accepted(entry.index(), entry.term());
    }

    private void appendOwn(LogEntry entry) {
        log.append(entry);
        if (configs.appended(entry, log.applied)) {
            configChanged();
        }
    }

    /**
     * Proposes one membership change (dissertation §4.2, single-server changes): it takes effect on
     * each node as soon as that node appends it, and the change is done once it commits. Refused,
     * with the reason, while another change is uncommitted, before this leader has committed an
     * entry of its term, when it does not apply to the configuration, when a learner to promote has
     * not caught up, or when the voters that answered lately would not be a quorum afterwards.
     */
    public ProposeOutcome changeMembership(MembershipChange change) {
        if (role != Role.LEADER) {
            return new ProposeOutcome.NotLeader(leader);
        }
        if (transferee != NONE) {
            return new ProposeOutcome.Transferring(transferee);
        }
        String refusal = changeInProgress();
        if (refusal != null) {
            return new ProposeOutcome.Refused(refusal, true); // both pass by themselves in a moment
        }
        ClusterConfig next;
        try {
            next = configs.latest().apply(change);
        } catch (IllegalArgumentException e) {
            return new ProposeOutcome.Refused(e.getMessage());
        }
        if (change instanceof MembershipChange.Promote) {
            Progress p = progress.get(change.id());
            if (p == null || !caughtUp(p)) {
                long behind = log.lastIndex() - (p == null ? 0 : p.match);
                return new ProposeOutcome.Refused("node " + change.id() + " has not caught up: it is " + behind
                        + " entries behind the leader (at most " + config.catchUpEntries() + " allowed)"
                        + (p != null && p.ticksSinceHeard >= config.electionTicks() ? " and has not answered lately" : ""));
            }
        }
        refusal = quorumAfter(next);
        if (refusal != null) {
            return new ProposeOutcome.Refused(refusal);
        }
        LogEntry entry = new LogEntry(log.lastIndex() + 1, term, EntryType.CONFIG, next.encode());
        appendOwn(entry);
        LOG.debug("node {} proposes {} at index {}: {}", id, change, entry.index(), next);
        return new ProposeOutcome.Accepted(entry.index(), entry.term());
    }

    /** Why no membership change may start now, or null if one may. */
    private String changeInProgress() {
        if (!committedInCurrentTerm()) {
            return "the leader has not committed an entry of its term yet; retry shortly";
        }
        if (configs.latestIndex() > log.committed) {
            return "a membership change is in progress (index " + configs.latestIndex() + " is not committed yet); retry once it is";
        }
        return null;
    }

    /** Refuses a configuration whose voters that answered within an election timeout would not be a quorum. */
    private String quorumAfter(ClusterConfig next) {
        int live = 0;
        for (int voter : next.voters()) {
            Progress p = progress.get(voter);
            if (voter == id || p != null && p.ticksSinceHeard < config.electionTicks()) {
                live++;
            }
        }
        return live >= next.quorum() ? null : "after the change only " + live + " of its " + next.voters().size()
                + " voters would be reachable, fewer than a quorum of " + next.quorum() + "; bring voters back first";
    }

    /**
     * A learner holds the leader's log up to {@code catchUpEntries} from its end, including the
     * configuration in force (so it has seen itself join as a learner), answers, and streams: a
     * learner that restarted without its data rejects the next append, which ends streaming until a
     * probe finds what it really holds, so a match index from before cannot promote it.
     */
    private boolean caughtUp(Progress p) {
        return p.state == Progress.State.REPLICATE
                && p.match >= Math.max(configs.latestIndex(), log.lastIndex() - config.catchUpEntries())
                && p.ticksSinceHeard < config.electionTicks();
    }

    /** Leader, each heartbeat: promotes one learner added to become a voter once it has caught up. */
    private void promoteCaughtUpLearner() {
        if (transferee != NONE || changeInProgress() != null) {
            return;
        }
        for (Member m : configs.latest().members().values()) {
            Progress p = progress.get(m.id());
            if (m.kind() == Member.Kind.JOINING && p != null && caughtUp(p)) {
                changeMembership(new MembershipChange.Promote(m.id()));
                return;
            }
        }
    }

    /**
     * Asks to serve a linearizable read (ReadIndex, dissertation §6.4). The outcome comes in a later
     * {@link Ready}: the log index to wait for, once leadership is confirmed by a heartbeat round
     * that started after this call, or a refusal naming the leader if this node does not lead.
     * Reads asked for between two {@code ready()} calls share one round.
     */
    public void read(long readId) {
        if (role != Role.LEADER) {
            readOutcomes.add(new ReadOutcome.NotLeader(readId, leader));
        } else if (!committedInCurrentTerm()) {
            reads.waitForCommit(readId); // the commit index may lag until our no-op commits
        } else {
            reads.add(readId, log.committed);
            confirmReads(); // a one-voter cluster confirms at once
        }
    }

    /**
     * Starts handing leadership to {@code target} (dissertation §3.10): once its log is up to date
     * it is told to start an election at once. New proposals are refused meanwhile; the transfer
     * gives up after an election timeout.
     *
     * @return false if this node does not lead or {@code target} is not another voter
     */
    public boolean transferLeadership(int target) {
        if (role != Role.LEADER || target == id || !configs.latest().isVoter(target)) {
            return false;
        }
        transferee = target;
        transferElapsed = 0;
        Progress p = progress.get(target);
        if (p.match == log.lastIndex()) {
            sendTimeoutNow(target);
        }
        return true;
    }

    // ---- output ------------------------------------------------------------------------------

    /** True if {@link #ready()} has anything to do. */
    public boolean hasReady() {
        if (outstanding != null) {
            return false;
        }
        flushAppends();
        return !messages.isEmpty() || !messagesAfterSync.isEmpty() || !readOutcomes.isEmpty() || !snapshotChunks.isEmpty()
                || log.hasUnstable() || !hardState().equals(savedHardState)
                || log.committed > log.applied || !softState().equals(reportedSoftState);
    }

    /**
     * Messages that need nothing made durable first (appends and heartbeats from a leader, their
     * acknowledgements when they promise only what is already durable), to send at once. The runtime
     * takes them after every batch of events, also while a {@link Ready} is outstanding, so that a
     * slow disk delays neither replication nor heartbeats. Whatever is not taken here goes out in the
     * next Ready's {@link Ready#messages()}.
     */
    public List<Message> takeMessages() {
        flushAppends();
        if (messages.isEmpty()) {
            return List.of();
        }
        List<Message> out = List.copyOf(messages);
        messages.clear();
        return out;
    }

    /**
     * Collects the effects to carry out; the caller must then call {@link #advance(Ready)}. Events may
     * go on arriving meanwhile (while the Ready's writes run on another thread): their effects wait
     * for the next Ready, except the messages of {@link #takeMessages()}.
     */
    public Ready ready() {
        checkNoOutstandingReady();
        flushAppends();
        List<LogEntry> committed = log.nextCommitted(config.maxApplyEntries());
        outstanding = new Ready(hardState(), log.unstableEntries(), List.copyOf(messages),
                List.copyOf(messagesAfterSync), List.copyOf(snapshotChunks), committed, List.copyOf(readOutcomes), softState());
        snapshotChunks.clear();
        messages.clear();
        messagesAfterSync.clear();
        readOutcomes.clear();
        return outstanding;
    }

    /** Acknowledges that the effects of {@code ready} were carried out (entries and hard state are durable). */
    public void advance(Ready ready) {
        if (ready != outstanding) {
            throw new IllegalStateException("advance() of a Ready that is not the outstanding one");
        }
        outstanding = null;
        savedHardState = ready.hardState();
        reportedSoftState = ready.role();
        long written = log.stableTo(ready.entries());
        if (written > 0) {
            // Entries replaced while this Ready was written were dropped from persistedIndex then, and
            // are not in the stable prefix now: the next Ready writes their replacements.
            persistedIndex = written;
        }
        if (!ready.committed().isEmpty()) {
            log.applied = ready.committed().get(ready.committed().size() - 1).index();
        }
        if (installing != null && ready.snapshotChunks().stream().anyMatch(InstallSnapshot::done)) {
            // The runtime committed the snapshot, reset storage to it and restored the state machine.
            log.installedSnapshot(installing.index());
            persistedIndex = storage.lastIndex();
            if (configs.installed(installing, log)) {
                configChanged();
            }
            installing = null;
            receiver.reset();
        }
        if (role == Role.LEADER) {
            maybeCommit();
        }
    }

    public Status status() {
        Map<Integer, Status.PeerStatus> peers = new TreeMap<>();
        if (role == Role.LEADER) {
            progress.forEach((peer, p) -> peers.put(peer, new Status.PeerStatus(p.match, p.next, p.state.name())));
        }
        return new Status(id, role, term, leader, log.committed, log.applied, log.lastIndex(), peers, configs.latest(),
                configs.latestIndex() <= log.committed, removed(), droppedInvalid,
                role == Role.LEADER ? log.committed : Math.max(leaderCommit, log.committed));
    }

    /** The index of the entry (or snapshot) holding the configuration this node uses ({@link Status#members()}); 0 if none. */
    public long membersIndex() {
        return configs.latestIndex();
    }

    public int id() {
        return id;
    }

    /**
     * True while this node leads and streams its snapshot to a follower that answered within an
     * election timeout. A newer snapshot would restart that transfer from its first byte (storage
     * serves only the newest), so the runtime takes none meanwhile; otherwise a follower whose
     * transfer takes longer than the interval between snapshots would never catch up.
     */
    public boolean sendingSnapshot() {
        if (role != Role.LEADER) {
            return false;
        }
        for (Progress p : progress.values()) {
            if (p.state == Progress.State.SNAPSHOT && p.ticksSinceHeard < config.electionTicks()) {
                return true;
            }
        }
        return false;
    }

    public Role role() {
        return role;
    }

    public long term() {
        return term;
    }

    public int leader() {
        return leader;
    }

    /**
     * The last index of this node's log known durable (its writes done, none of it replaced since):
     * what a leader counts itself up to. The commit index may be ahead of it while a write runs.
     */
    public long persistedIndex() {
        return persistedIndex;
    }

    public long commitIndex() {
        return log.committed;
    }

    /** The configuration in force: the newest in the log, committed or not. */
    public ClusterConfig members() {
        return configs.latest();
    }

    /** The configuration in force at {@code index}, for a snapshot taken there (not below the applied index). */
    public ClusterConfig membersAt(long index) {
        return configs.at(index);
    }

    /** True once this node knows that a committed configuration removed it: it takes no further part. */
    public boolean removed() {
        return configs.removed(log.committed);
    }

    // ---- elections ---------------------------------------------------------------------------

    private void campaign(boolean preVote, boolean transfer) {
        votes.clear();
        leader = NONE;
        electionElapsed = 0;
        resetElectionTimeout();
        long campaignTerm;
        if (preVote) {
            role = Role.PRE_CANDIDATE;
            campaignTerm = term + 1;
        } else {
            role = Role.CANDIDATE;
            term++;
            votedFor = id;
            campaignTerm = term;
        }
        progress.clear();
        failPendingReads();
        votes.put(id, true);
        if (electionWon()) {
            onElectionWon();
            return;
        }
        for (int peer : configs.latest().voters()) {
            if (peer != id) {
                messagesAfterSync.add(new RequestVote(id, peer, campaignTerm, log.lastIndex(), log.lastTerm(), preVote, transfer));
            }
        }
    }

    private void handleRequestVote(RequestVote m) {
        boolean canVote = votedFor == m.from()
                || (votedFor == NONE && leader == NONE)
                || (m.preVote() && m.term() > term);
        boolean grant = canVote && log.isUpToDate(m.lastLogIndex(), m.lastLogTerm());
        if (grant && !m.preVote()) {
            votedFor = m.from();
            electionElapsed = 0;
        }
        // A granted pre-vote answers in the term asked about, so the candidate does not read it as news.
        long answerTerm = grant && m.preVote() ? m.term() : term;
        messagesAfterSync.add(new VoteResponse(id, m.from(), answerTerm, grant, m.preVote()));
    }

    private void handleVoteResponse(VoteResponse m) {
        boolean counts = (role == Role.PRE_CANDIDATE && m.preVote()) || (role == Role.CANDIDATE && !m.preVote());
        if (!counts || !configs.latest().isVoter(m.from())) {
            return;
        }
        votes.putIfAbsent(m.from(), m.granted());
        if (electionWon()) {
            onElectionWon();
        } else if (votes.values().stream().filter(granted -> !granted).count() >= configs.latest().quorum()) {
            becomeFollower(term, NONE);
        }
    }

    private boolean electionWon() {
        return votes.values().stream().filter(granted -> granted).count() >= configs.latest().quorum();
    }

    private void onElectionWon() {
        if (role == Role.PRE_CANDIDATE) {
            campaign(false, false);
        } else {
            becomeLeader();
        }
    }

    private void handleTimeoutNow(TimeoutNow m) {
        if (leader != NONE && m.from() != leader) {
            // (A node that does not know the leader yet, just restarted for instance, lets it through.)
            dropInvalid(m, "only the leader of term " + term + " hands leadership over, and node " + leader + " leads it");
            return;
        }
        if (role != Role.LEADER && configs.latest().isVoter(id)) {
            campaign(false, true);
        }
    }

    // ---- role changes ------------------------------------------------------------------------

    private void becomeFollower(long newTerm, int newLeader) {
        if (newTerm < term) {
            throw new IllegalStateException("term would go back from " + term + " to " + newTerm);
        }
        if (newTerm > term) {
            term = newTerm;
            votedFor = NONE;
            leaderCommit = 0;
        }
        role = Role.FOLLOWER;
        leader = newLeader;
        if (newLeader != NONE) {
            fruitlessElections = 0;
        }
        electionElapsed = 0;
        resetElectionTimeout();
        progress.clear();
        transferee = NONE;
        failPendingReads();
    }

    private void becomeLeader() {
        role = Role.LEADER;
        fruitlessElections = 0;
        leader = id;
        electionElapsed = 0;
        heartbeatElapsed = 0;
        transferee = NONE;
        reads.reset();
        progress.clear();
        trackMembers();
        // Commits everything before it once it commits (Raft §5.4.2), and lets reads know the commit index.
        log.append(new LogEntry(log.lastIndex() + 1, term, EntryType.NOOP, Bytes.EMPTY));
        maybeCommit();
    }

    private void failPendingReads() {
        reads.failAll(leader, readOutcomes);
    }

    // ---- replication: follower side ----------------------------------------------------------

    private void handleAppendEntries(AppendEntries m) {
        if (!heardFromLeader(m)) {
            return;
        }
        if (installing != null) {
            return; // the log is being replaced by a snapshot; the leader will send this again
        }
        long prev = m.prevLogIndex();
        long prevTerm = m.prevLogTerm();
        List<LogEntry> entries = m.entries();
        if (prev < log.committed) {
            // Everything up to our commit index must match the leader's log: check what we still hold,
            // then go on from the commit index.
            checkAgreesWithCommitted(m);
            int skip = (int) Math.min(entries.size(), log.committed - prev);
            entries = entries.subList(skip, entries.size());
            prev = log.committed;
            prevTerm = log.term(prev);
        }
        leaderCommit = Math.max(leaderCommit, m.leaderCommit()); // also when the logs do not match yet: that is lag too
        if (log.matchTerm(prev, prevTerm)) {
            long replaced = log.appendFromLeader(prev, entries);
            if (replaced > 0) {
                persistedIndex = Math.min(persistedIndex, replaced - 1);
                boolean changed = configs.truncatedFrom(replaced);
                for (LogEntry e : entries) {
                    // One at a time: a joining node must see itself join as a learner.
                    changed |= e.index() >= replaced && configs.appended(e, log.applied);
                }
                if (changed) {
                    configChanged();
                }
            }
            long lastNew = prev + entries.size();
            log.commitTo(Math.min(m.leaderCommit(), lastNew));
            if (entries.isEmpty() && term == savedHardState.term()) {
                // A heartbeat adds nothing to make durable: acknowledge at once what already is (the
                // logs agree up to prev, so up to there), so that a slow disk here neither delays the
                // leader's reads nor looks like a lost follower. The term it carries is durable too.
                messages.add(AppendResponse.success(id, m.from(), term, Math.min(lastNew, persistedIndex), m.round()));
            } else {
                messagesAfterSync.add(AppendResponse.success(id, m.from(), term, lastNew, m.round()));
            }
        } else {
            long hintIndex = log.lastIndexUpToTerm(Math.min(m.prevLogIndex(), log.lastIndex()), m.prevLogTerm());
            long hintTerm = log.term(hintIndex);
            messagesAfterSync.add(AppendResponse.reject(id, m.from(), term, m.prevLogIndex(), hintIndex, hintTerm, m.round()));
        }
    }

    /**
     * Log Matching and Leader Completeness mean a leader's log agrees with every committed entry. If it
     * does not, this node's log or the leader's is not what Raft promised (lost or corrupted data):
     * acknowledging anything could spread the damage, so the node stops.
     */
    private void checkAgreesWithCommitted(AppendEntries m) {
        long ours = log.term(m.prevLogIndex());
        if (ours >= 0 && ours != m.prevLogTerm()) {
            throw inconsistency(m, m.prevLogIndex(), m.prevLogTerm(), ours);
        }
        for (LogEntry e : m.entries()) {
            if (e.index() > log.committed) {
                break;
            }
            ours = log.term(e.index());
            if (ours >= 0 && ours != e.term()) {
                throw inconsistency(m, e.index(), e.term(), ours);
            }
        }
    }

    private NodeHaltedException inconsistency(AppendEntries m, long index, long leaderTerm, long ourTerm) {
        return new NodeHaltedException("node " + id + " stops: the leader (node " + m.from() + ", term " + m.term()
                + ") has term " + leaderTerm + " at index " + index + ", but this node committed index " + index + " in term "
                + ourTerm + " (commit index " + log.committed + "). Committed entries never change in Raft, so one of the two"
                + " logs was lost or corrupted; this node acknowledges nothing more. Compare the nodes' logs before restarting it.");
    }

    /** Raft §7, receiving side: accept chunks in order; the last one has the snapshot installed. */
    private void handleInstallSnapshot(InstallSnapshot m) {
        if (!heardFromLeader(m)) {
            return;
        }
        SnapshotMeta meta = m.meta();
        if (installing != null) {
            return; // busy installing; the leader resends after a heartbeat without progress
        }
        if (meta.index() <= log.committed) {
            // We already hold all it covers, committed: the leader may go on from there.
            messagesAfterSync.add(new SnapshotResponse(id, m.from(), term, meta.index(), 0, true));
            return;
        }
        SnapshotReceiver.Verdict verdict = receiver.receive(m);
        if (verdict.accepted()) {
            snapshotChunks.add(m);
            if (m.done()) {
                installing = meta;
            }
        }
        messagesAfterSync.add(new SnapshotResponse(id, m.from(), term, meta.index(), verdict.nextOffset(),
                verdict.accepted() && m.done()));
    }

    // ---- replication: leader side ------------------------------------------------------------

    private void handleSnapshotResponse(SnapshotResponse m) {
        Progress p = role == Role.LEADER ? progress.get(m.from()) : null;
        if (p == null) {
            return;
        }
        if (m.index() > log.lastIndex()) {
            dropInvalid(m, "it acknowledges index " + m.index() + " beyond this leader's last index " + log.lastIndex());
            return;
        }
        p.heardFrom();
        if (m.done()) {
            boolean advanced = p.acknowledge(m.index());
            if (p.state == Progress.State.SNAPSHOT) {
                p.becomeProbe(m.index() + 1); // the follower's log now matches up to the snapshot
            }
            if (advanced) {
                maybeCommit();
            }
        } else if (p.state == Progress.State.SNAPSHOT && m.index() == p.snapshotIndex) {
            if (m.nextOffset() > p.snapshotAcked) {
                p.snapshotAcked = m.nextOffset();
                p.snapshotSent = Math.max(p.snapshotSent, p.snapshotAcked);
                p.snapshotProgressed = true;
                p.snapshotProbing = false;
            } else if (m.nextOffset() < p.snapshotAcked) {
                // Stale (answers overtake each other), or the follower lost what it had (it restarted).
                // Rewinding at once on every stale answer would resend the same chunks over and over; a
                // follower that really lost them makes no progress, and the next heartbeat rewinds.
                p.snapshotBehind = p.snapshotBehind < 0 ? m.nextOffset() : Math.min(p.snapshotBehind, m.nextOffset());
            }
        }
    }

    private void handleAppendResponse(AppendResponse m) {
        if (role != Role.LEADER) {
            return;
        }
        Progress p = progress.get(m.from());
        if (p == null) {
            return;
        }
        if (m.success() && m.index() > log.lastIndex() || m.round() > reads.round()) {
            dropInvalid(m, "it acknowledges index " + m.index() + " or round " + m.round() + ", beyond this leader's "
                    + log.lastIndex() + " and " + reads.round());
            return;
        }
        p.heardFrom();
        if (m.round() > p.ackedRound) {
            p.ackedRound = m.round();
            confirmReads();
        }
        if (m.success()) {
            boolean advanced = p.acknowledge(m.index());
            if (p.state == Progress.State.PROBE && p.match == m.index()) {
                p.becomeReplicate(); // the probe found where our logs agree: start streaming
            }
            if (advanced) {
                maybeCommit();
            }
        } else {
            long probe = m.hintTerm() > 0 ? log.lastIndexUpToTerm(m.hintIndex(), m.hintTerm()) : m.hintIndex();
            if (m.index() == p.match) {
                // The follower lacks the entry it acknowledged last: it restarted without it (a disk that
                // lost writes, or no fsync), or the answer is an old one overtaken by later ones. Probing
                // again costs a round trip either way; ignoring it would leave a follower that really lost
                // entries stuck until the next leader. (Rejections below the match index are old answers:
                // a follower that lost entries rejects the next heartbeat, anchored at or above it.)
                p.forgetMatch(Math.max(1, Math.min(m.index(), probe + 1)));
            } else if (m.index() > p.match && (p.state == Progress.State.REPLICATE || m.index() == p.next - 1)) {
                p.becomeProbe(Math.min(m.index(), probe + 1));
            }
        }
        if (m.from() == transferee && p.match == log.lastIndex()) {
            sendTimeoutNow(transferee);
        }
    }

    /** The configuration in force changed (appended, cut off, or replaced by a snapshot's). */
    private void configChanged() {
        if (role == Role.LEADER) {
            trackMembers();
        }
        if (transferee != NONE && !configs.latest().isVoter(transferee)) {
            transferee = NONE;
        }
    }

    /** Leader: a progress for every other member; those of removed ones stay until they heard of it. */
    private void trackMembers() {
        for (int peer : configs.latest().members().keySet()) {
            if (peer != id && !progress.containsKey(peer)) {
                Progress p = new Progress(log.lastIndex() + 1);
                p.recentActive = true;
                p.heartbeatDue = true;
                progress.put(peer, p);
            }
        }
    }

    /**
     * Leader, each heartbeat: stops replicating to members no longer in the configuration, once that
     * configuration is committed and the removed node acknowledged the change and has been sent a
     * commit index covering it (so it knows it was removed) in {@value #REMOVAL_NOTICES} heartbeats,
     * or has not answered for an election timeout. One notice is not enough: if that one message is
     * lost, the removed node never learns that it was removed, and never stops.
     */
    private void forgetRemovedFollowers() {
        ClusterConfig members = configs.latest();
        long at = configs.latestIndex();
        progress.entrySet().removeIf(e -> {
            Progress p = e.getValue();
            if (members.isMember(e.getKey()) || at > log.committed) {
                return false;
            }
            if (p.match >= at && p.sentCommit >= at) {
                p.removalNotices++;
            }
            return p.removalNotices >= REMOVAL_NOTICES || p.ticksSinceHeard >= config.electionTicks();
        });
    }

    /** Heartbeats that tell a removed follower of its removal before the leader stops sending to it. */
    private static final int REMOVAL_NOTICES = 3;

    /**
     * A leader whose own removal committed: it tells the most up-to-date voter to campaign at once
     * (leadership transfer, so the cluster does not wait out an election timeout), then steps down.
     */
    private void handOverAfterRemoval() {
        int best = NONE;
        long bestMatch = -1;
        for (int voter : configs.latest().voters()) {
            Progress p = progress.get(voter);
            if (p != null && p.match > bestMatch) {
                best = voter;
                bestMatch = p.match;
            }
        }
        LOG.info("node {} was removed from the cluster at index {} and steps down{}", id, configs.latestIndex(),
                best != NONE && bestMatch == log.lastIndex() ? ", handing leadership to node " + best : "");
        if (best != NONE && bestMatch == log.lastIndex()) {
            sendTimeoutNow(best);
        }
        becomeFollower(term, NONE);
    }

    /**
     * A message only the leader of this term sends (AppendEntries, InstallSnapshot) arrived: unless it
     * claims another leader than the one this node knows, this node follows its sender and restarts its
     * election timer, and any backoff of fruitless elections ends.
     *
     * @return false if the message was dropped
     */
    private boolean heardFromLeader(Message m) {
        if (claimsAnotherLeader(m)) {
            return false;
        }
        if (role != Role.FOLLOWER) {
            becomeFollower(term, m.from());
        }
        leader = m.from();
        electionElapsed = 0;
        fruitlessElections = 0;
        return true;
    }

    /**
     * One leader per term (Election Safety): a message only a leader sends, from another node than the
     * leader this node knows in this term, is forged, corrupt or from a buggy sender. Accepting it would
     * let that sender overwrite entries the real leader wrote; it is dropped instead.
     */
    private boolean claimsAnotherLeader(Message m) {
        if (role == Role.LEADER) {
            dropInvalid(m, "it claims to lead term " + term + ", which this node leads");
            return true;
        }
        if (leader != NONE && leader != m.from()) {
            dropInvalid(m, "it claims to lead term " + term + ", which node " + leader + " leads");
            return true;
        }
        return false;
    }

    /** Drops a message that contradicts what this node knows, and says so (the first time, then every 1000th). */
    private void dropInvalid(Message m, String why) {
        if (droppedInvalid++ % 1000 == 0) {
            LOG.warn("node {} dropped {} from node {} ({} such so far): {}", id, m.kind(), m.from(), droppedInvalid, why);
        }
    }

    /** Messages dropped because they contradicted what this node knows. */
    public long droppedInvalid() {
        return droppedInvalid;
    }

    /** Founds the cluster once the other founders answered that it does not exist yet. */
    private void maybeBootstrap() {
        if (!bootstrapCheck.satisfied()) {
            return;
        }
        LOG.info("node {} founds the cluster {}: no founder has seen it before", id, bootstrapCheck.founders());
        // The same entry and term as Storage.bootstrap, so that every founder's log agrees from the start.
        LogEntry founding = new LogEntry(1, 1, EntryType.CONFIG, bootstrapCheck.founders().encode());
        log.append(founding);
        configs.appended(founding, log.applied);
        configChanged();
        term = 1;
        votedFor = NONE;
        bootstrapCheck = null;
        electionElapsed = 0;
        resetElectionTimeout();
    }

    /** True while this node, started with no state, waits for the founders' answers before bootstrapping. */
    public boolean bootstrapping() {
        return bootstrapCheck != null;
    }

    private void sendTimeoutNow(int target) {
        messages.add(new TimeoutNow(id, target, term));
    }

    /** Raft §5.3/§5.4.2: commit the highest index a quorum holds durably, if it is from our term. */
    private void maybeCommit() {
        long[] matches = new long[configs.latest().voters().size()];
        int i = 0;
        for (int voter : configs.latest().voters()) {
            matches[i++] = voter == id ? persistedIndex : (progress.containsKey(voter) ? progress.get(voter).match : 0);
        }
        Arrays.sort(matches);
        long quorumIndex = matches[matches.length - configs.latest().quorum()];
        if (quorumIndex > log.committed && log.term(quorumIndex) == term) {
            boolean firstInTerm = !committedInCurrentTerm();
            log.commitTo(quorumIndex);
            if (firstInTerm) {
                reads.committedInTerm(log.committed);
                confirmReads();
            }
            if (!configs.latest().isVoter(id) && configs.latestIndex() <= log.committed) {
                handOverAfterRemoval();
            }
        }
    }

    private boolean committedInCurrentTerm() {
        return log.term(log.committed) == term;
    }

    private boolean quorumActive() {
        ClusterConfig members = configs.latest();
        int active = members.isVoter(id) ? 1 : 0;
        for (Map.Entry<Integer, Progress> e : progress.entrySet()) {
            if (e.getValue().recentActive && members.isVoter(e.getKey())) {
                active++;
            }
        }
        return active >= members.quorum();
    }

    private void confirmReads() {
        ClusterConfig members = configs.latest();
        reads.confirm(round -> (members.isVoter(id) ? 1 : 0) + progress.entrySet().stream()
                        .filter(e -> e.getValue().ackedRound >= round && members.isVoter(e.getKey())).count(),
                members.quorum(), readOutcomes);
    }

    /**
     * Sends what each follower needs, once per batch of events: new entries up to the pipelining
     * window, or an empty AppendEntries when a heartbeat, a read round or a commit is due.
     */
    private void flushAppends() {
        if (role != Role.LEADER) {
            return;
        }
        if (reads.startWantedRound()) {
            progress.values().forEach(p -> p.heartbeatDue = true);
        }
        for (Map.Entry<Integer, Progress> e : progress.entrySet()) {
            int peer = e.getKey();
            Progress p = e.getValue();
            if (p.state != Progress.State.SNAPSHOT && p.next < log.firstIndex()) {
                p.becomeSnapshot(snapshots.newest().index()); // its next entry was compacted away
            }
            if (p.state == Progress.State.SNAPSHOT) {
                snapshots.send(id, peer, term, p, messages);
                p.heartbeatDue = false;
                continue;
            }
            boolean sentAny = false;
            while (p.canSend(config.maxInflight()) && (p.next <= log.lastIndex() || p.state == Progress.State.PROBE)) {
                long prev = p.next - 1;
                List<LogEntry> batch = log.entries(p.next, config.maxBatchEntries(), config.maxBatchBytes());
                AppendEntries ae = new AppendEntries(id, peer, term, prev, log.term(prev), batch, log.committed, reads.round());
                messages.add(ae);
                p.sent(ae.lastIndex());
                p.sentCommit = log.committed;
                sentAny = true;
                if (p.state == Progress.State.PROBE) {
                    break;
                }
            }
            boolean anchorKnown = log.term(p.state == Progress.State.REPLICATE ? p.next - 1 : p.match) >= 0;
            if (!sentAny && anchorKnown && (p.heartbeatDue || p.sentCommit < Math.min(log.committed, p.match))) {
                // In REPLICATE, anchored at the last index sent: if those batches were lost the follower
                // rejects it and we probe again; anchored at the match index it would always succeed and
                // the lost entries would never be resent. In PROBE, at the match index, which cannot fail.
                long anchor = p.state == Progress.State.REPLICATE ? p.next - 1 : p.match;
                long commit = Math.min(log.committed, p.match);
                messages.add(new AppendEntries(id, peer, term, anchor, log.term(anchor), List.of(), commit, reads.round()));
                p.sentCommit = commit;
            }
            p.heartbeatDue = false;
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    private HardState hardState() {
        return new HardState(term, votedFor);
    }

    private Ready.SoftState softState() {
        return new Ready.SoftState(role, leader, term);
    }

    private void resetElectionTimeout() {
        int base = config.electionTicks() << fruitlessElections;
        electionTimeout = base + random.nextInt(base);
    }

    /** True while an outstanding {@link Ready} writes a new term or vote. */
    private boolean writingHardState() {
        return outstanding != null && !outstanding.hardState().equals(savedHardState);
    }

    private void checkNoOutstandingReady() {
        if (outstanding != null) {
            throw new IllegalStateException("ready() again before advance() of the outstanding Ready");
        }
    }

    @Override
    public String toString() {
        return "node " + id + " " + role + " term " + term + " commit " + log.committed + " last " + log.lastIndex();
    }
}
