package io.flotilla.core.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.ClusterConfig;
import io.flotilla.core.MemoryStorage;
import io.flotilla.core.message.RequestVote;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/**
 * Raft §5.2 (figure 2): a follower campaigns when its election timeout passes without hearing the
 * current leader or granting a vote; nothing else resets the timer. Found by the simulation (seeds
 * 5777, 5841): without pre-vote, a node with a stale log and a fast clock timed out first again and
 * again, and each of its doomed vote requests reset the timers of the nodes that could have won.
 */
class ElectionTimerTest {
    private static final int ELECTION_TICKS = 10;

    /** Always draws the longest election timeout, 2 * ELECTION_TICKS - 1, so the test is exact. */
    private static final RandomGenerator LONGEST_TIMEOUT = new RandomGenerator() {
        @Override
        public long nextLong() {
            return 0;
        }

        @Override
        public int nextInt(int bound) {
            return bound - 1;
        }
    };

    private final MemoryStorage storage = new MemoryStorage();

    @Test
    void rejectedVoteRequestOfAHigherTermDoesNotResetTheElectionTimer() {
        RaftNode node = follower();
        tick(node, 2 * ELECTION_TICKS - 2); // one tick short of its timeout

        // A candidate whose log is behind ours: we move to its term but refuse our vote.
        node.step(new RequestVote(3, 1, 5, 0, 0, false, false));
        drain(node);
        assertThat(node.term()).isEqualTo(5);
        assertThat(node.role()).isEqualTo(Role.FOLLOWER);
        tick(node, 1);

        assertThat(node.role()).isEqualTo(Role.CANDIDATE);
        assertThat(node.term()).isEqualTo(6);
    }

    @Test
    void grantedVoteStillResetsTheElectionTimer() {
        RaftNode node = follower();
        tick(node, 2 * ELECTION_TICKS - 2);

        node.step(new RequestVote(3, 1, 5, 1, 1, false, false)); // as up to date as we are
        drain(node);
        tick(node, 1);

        assertThat(node.role()).isEqualTo(Role.FOLLOWER);
    }

    private RaftNode follower() {
        storage.bootstrap(ClusterConfig.of(1, 2, 3));
        RaftConfig config = RaftConfig.defaults(1).withTimings(ELECTION_TICKS, 2).withPreVote(false);
        return new RaftNode(config, storage, LONGEST_TIMEOUT);
    }

    private void tick(RaftNode node, int ticks) {
        for (int i = 0; i < ticks; i++) {
            node.tick();
            drain(node);
        }
    }

    /** Persists what the node asks for and acknowledges it; its messages are not needed here. */
    private void drain(RaftNode node) {
        while (node.hasReady()) {
            Ready ready = node.ready();
            storage.append(ready.entries());
            storage.saveHardState(ready.hardState());
            node.advance(ready);
        }
    }
}
