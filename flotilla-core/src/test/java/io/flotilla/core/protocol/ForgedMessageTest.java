package io.flotilla.core.protocol;

import static io.flotilla.core.protocol.NodeHarness.append;
import static io.flotilla.core.protocol.NodeHarness.config;
import static io.flotilla.core.protocol.NodeHarness.entries;
import static io.flotilla.core.protocol.NodeHarness.follower;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.message.InstallSnapshot;
import io.flotilla.core.message.Message;
import io.flotilla.core.message.TimeoutNow;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Messages no honest node sends: a second leader in a term, a hand-over from a node that does not
 * lead, a hand-over from a term never seen. A plaintext port lets anyone send them; the node drops
 * them, counts them, and changes nothing (docs/security.md).
 */
class ForgedMessageTest {
    private static final int[] VOTERS = {1, 2, 3};

    /** Node 2 follows node 1 in term 2, with entries 1-3 of which 2 are committed. */
    private static NodeHarness followerOfNode1() {
        NodeHarness n = follower(config(2), 1, 2, VOTERS);
        n.deliverAndDrain(append(1, 2, 2, 1, 1, entries(2, 2, 2), 2));
        assertThat(n.logTerms()).containsExactly(1L, 2L, 2L);
        assertThat(n.node.commitIndex()).isEqualTo(2);
        return n;
    }

    private static void assertUnchanged(NodeHarness n, Ready ready) {
        assertThat(ready.messages()).isEmpty();
        assertThat(ready.messagesAfterSync()).isEmpty();
        assertThat(ready.entries()).isEmpty();
        assertThat(n.logTerms()).containsExactly(1L, 2L, 2L);
        assertThat(n.node.commitIndex()).isEqualTo(2);
        assertThat(n.node.term()).isEqualTo(2);
        assertThat(n.node.role()).isEqualTo(Role.FOLLOWER);
        assertThat(n.node.leader()).isEqualTo(1);
        assertThat(n.node.droppedInvalid()).isEqualTo(1);
    }

    @Test
    void anAppendEntriesFromAnotherNodeThanTheTermsLeaderIsDropped() {
        NodeHarness n = followerOfNode1();

        // Node 3 claims term 2 and overwrites index 3 with its own entry, committing it.
        Ready ready = n.deliverAndDrain(append(3, 2, 2, 2, 2, entries(3, 2), 3));

        assertUnchanged(n, ready);
    }

    @Test
    void anInstallSnapshotFromAnotherNodeThanTheTermsLeaderIsDropped() {
        NodeHarness n = followerOfNode1();
        SnapshotMeta meta = new SnapshotMeta(50, 2, ClusterConfig.of(1, 2, 3));

        Ready ready = n.deliverAndDrain(new InstallSnapshot(3, 2, 2, meta, 0, Bytes.utf8("forged"), true, 0));

        assertUnchanged(n, ready);
    }

    @Test
    void aTimeoutNowFromANodeThatDoesNotLeadIsDropped() {
        NodeHarness n = followerOfNode1();

        Ready ready = n.deliverAndDrain(new TimeoutNow(3, 2, 2));

        assertUnchanged(n, ready);
    }

    @Test
    void aTimeoutNowFromATermNeverSeenIsDroppedWithoutLearningTheTerm() {
        NodeHarness n = followerOfNode1();

        Ready ready = n.deliverAndDrain(new TimeoutNow(1, 2, 9));

        assertUnchanged(n, ready);
    }

    @Test
    void theRealLeaderIsStillFollowedAfterForgedMessages() {
        NodeHarness n = followerOfNode1();
        for (Message forged : List.<Message>of(append(3, 2, 2, 2, 2, entries(3, 2), 3), new TimeoutNow(3, 2, 2),
                new TimeoutNow(1, 2, 9))) {
            n.deliverAndDrain(forged);
        }

        n.deliverAndDrain(append(1, 2, 2, 3, 2, entries(4, 2), 4));

        assertThat(n.logTerms()).containsExactly(1L, 2L, 2L, 2L);
        assertThat(n.node.commitIndex()).isEqualTo(4);
        assertThat(n.node.droppedInvalid()).isEqualTo(3);
    }
}
