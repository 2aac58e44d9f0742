package io.flotilla.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ClusterConfigTest {
    private static final ClusterConfig THREE = ClusterConfig.ofVoters(java.util.Map.of(1, "h:1", 2, "h:2", 3, "h:3"));

    @Test
    void aLearnerJoinsWithoutChangingTheVotersAndBecomesOneWhenPromoted() {
        ClusterConfig withLearner = THREE.apply(new MembershipChange.AddLearner(4, "h:4", false));
        assertThat(withLearner.voters()).containsExactly(1, 2, 3);
        assertThat(withLearner.quorum()).isEqualTo(2);
        assertThat(withLearner.isMember(4)).isTrue();
        assertThat(withLearner.member(4)).contains(new Member(4, "h:4", Member.Kind.LEARNER));

        ClusterConfig promoted = withLearner.apply(new MembershipChange.Promote(4));
        assertThat(promoted.voters()).containsExactly(1, 2, 3, 4);
        assertThat(promoted.quorum()).isEqualTo(3);
    }

    @Test
    void aRemovedIdIsRecordedAndNeverAddedAgain() {
        ClusterConfig without3 = THREE.apply(new MembershipChange.Remove(3));
        assertThat(without3.voters()).containsExactly(1, 2);
        assertThat(without3.removed()).containsExactly(3);

        assertThatThrownBy(() -> without3.apply(new MembershipChange.AddLearner(3, "h:9", true)))
                .hasMessage("node 3 was removed from this cluster, and an id is never used twice; add the new node under a new id");
        assertThatThrownBy(() -> without3.apply(new MembershipChange.Remove(3)))
                .hasMessage("node 3 is not a member; it was removed already");
    }

    @Test
    void changesThatDoNotApplyAreRefusedWithTheReason() {
        assertThatThrownBy(() -> THREE.apply(new MembershipChange.AddLearner(2, "h:2", false)))
                .hasMessage("node 2 is already a member (voter)");
        assertThatThrownBy(() -> THREE.apply(new MembershipChange.Promote(2))).hasMessage("node 2 is already a voter");
        assertThatThrownBy(() -> THREE.apply(new MembershipChange.Promote(7)))
                .hasMessage("node 7 is not a member; add it as a learner first");
        assertThatThrownBy(() -> ClusterConfig.of(1).apply(new MembershipChange.Remove(1)))
                .hasMessage("node 1 is the only voter; a cluster needs at least one");
        assertThatThrownBy(() -> THREE.apply(new MembershipChange.AddLearner(4, "bad address", false)))
                .hasMessageContaining("printable ASCII characters without spaces");
    }

    @Test
    void encodingRoundTripsAndEqualConfigurationsGiveEqualBytes() {
        ClusterConfig c = THREE.apply(new MembershipChange.AddLearner(5, "h:5", true)).apply(new MembershipChange.Remove(2));
        assertThat(ClusterConfig.decode(c.encode())).isEqualTo(c);
        ClusterConfig same = new ClusterConfig(List.of(new Member(5, "h:5", Member.Kind.JOINING),
                new Member(3, "h:3", Member.Kind.VOTER), new Member(1, "h:1", Member.Kind.VOTER)), Set.of(2));
        assertThat(same.encode()).isEqualTo(c.encode());
    }

    @Test
    void theFirstFormatOfVotersOnlyIsStillRead() {
        ByteBuffer v1 = ByteBuffer.allocate(16).putInt(3).putInt(1).putInt(2).putInt(3);
        assertThat(ClusterConfig.decode(Bytes.wrap(v1.array()))).isEqualTo(ClusterConfig.of(1, 2, 3));
    }

    @Test
    void damagedBytesAreRefusedWithoutLargeAllocations() {
        assertThatThrownBy(() -> ClusterConfig.decode(Bytes.wrap(new byte[] {0, 0})))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("configuration entry too short");
        assertThatThrownBy(() -> ClusterConfig.decode(Bytes.wrap(ByteBuffer.allocate(8).putInt(-2).putInt(Integer.MAX_VALUE).array())))
                .hasMessageContaining("claims 2147483647 members");
        assertThatThrownBy(() -> ClusterConfig.decode(Bytes.wrap(ByteBuffer.allocate(8).putInt(-7).putInt(1).array())))
                .hasMessage("unknown configuration format -7");
        byte[] good = THREE.encode().unsafeArray();
        byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
        assertThatThrownBy(() -> ClusterConfig.decode(Bytes.wrap(longer))).hasMessage("configuration entry has 1 bytes after its end");
    }

    @Test
    void noConfigurationHasNoVotersAndNoMembers() {
        assertThat(ClusterConfig.NONE.voters()).isEmpty();
        assertThat(ClusterConfig.NONE.isMember(1)).isFalse();
        assertThatThrownBy(() -> new ClusterConfig(List.of(new Member(1, "", Member.Kind.LEARNER)), Set.of()))
                .hasMessage("a cluster needs at least one voter");
    }
}
