package io.flotilla.client.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.ClusterStatus;
import io.flotilla.client.wire.NodeStatus;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LeaderChangesTest {
    /** Three nodes; a term of 0 stands for a node that did not answer. */
    private static ClusterStatus status(int leader, long... terms) {
        List<ClusterStatus.Node> nodes = new ArrayList<>();
        for (int i = 0; i < terms.length; i++) {
            int id = i + 1;
            Optional<NodeStatus> s = terms[i] == 0 ? Optional.empty()
                    : Optional.of(new NodeStatus(id, id == leader ? "LEADER" : "FOLLOWER", terms[i], leader, 1, 1, 1));
            nodes.add(new ClusterStatus.Node(InetSocketAddress.createUnresolved("127.0.0.1", 5000 + id), s, s.isPresent() ? "" : "refused"));
        }
        return new ClusterStatus(nodes);
    }

    @Test
    void noChangeIsZeroAndSaysTheTerm() {
        LeaderChanges changes = new LeaderChanges();
        changes.observe(0, status(1, 3, 3, 3));
        changes.observe(1, status(1, 3, 3, 3));
        changes.observe(2, status(1, 3, 0, 3));
        assertThat(changes.count()).hasValue(0);
        assertThat(changes.text()).isEqualTo("leader changes: 0 (terms 3 -> 3)");
        assertThat(changes.json()).containsEntry("leaderChanges", 0L).containsEntry("terms", Map.of("first", 3L, "last", 3L));
    }

    @Test
    void everyNewTermCountsThoughThePollsMissedSome() {
        LeaderChanges changes = new LeaderChanges();
        changes.observe(0, status(1, 3, 3, 3));
        changes.observe(1.5, status(0, 3, 4, 4)); // an election under way: no leader named yet
        changes.observe(2.5, status(2, 6, 6, 5)); // terms 5 and 6 between two polls
        changes.observe(3.5, status(2, 6, 6, 6));
        assertThat(changes.count()).hasValue(3);
        assertThat(changes.sightings()).extracting(LeaderChanges.Sighting::leaderId).containsExactly(1, 0, 2);
        assertThat(changes.text()).isEqualTo(String.format(
                "leader changes: 3 (terms 3 -> 6)%nleaders: node 1 (term 3, 0.0 s), none (term 4, 1.5 s), node 2 (term 6, 2.5 s)"));
    }

    @Test
    void aLaggingNodeAnsweringAloneDoesNotTurnTheTermBack() {
        LeaderChanges changes = new LeaderChanges();
        changes.observe(0, status(1, 5, 5, 5));
        changes.observe(1, status(0, 0, 0, 4));
        changes.observe(2, status(1, 5, 5, 5));
        assertThat(changes.count()).hasValue(0);
        assertThat(changes.sightings()).hasSize(1);
    }

    @Test
    void withoutAnyAnswerTheCountIsUnknown() {
        LeaderChanges changes = new LeaderChanges();
        changes.observe(0, status(0, 0, 0, 0));
        assertThat(changes.count()).isEmpty();
        assertThat(changes.text()).isEqualTo("leader changes: unknown (no node answered a status query)");
        assertThat(changes.json()).containsEntry("leaderChanges", null);
    }
}
