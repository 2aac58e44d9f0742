package io.flotilla.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.client.wire.Session;
import org.junit.jupiter.api.Test;

class WriteSessionTest {
    @Test
    void acknowledgesNothingUntilTheClusterHasAppliedAWrite() {
        WriteSession s = new WriteSession(7);
        Session first = s.next();
        assertThat(first).isEqualTo(new Session(7, 1, 1));
        s.settled(first, false); // e.g. refused as invalid: the cluster never saw the session
        assertThat(s.next().ackedBelow()).isEqualTo(1);
    }

    @Test
    void acknowledgesBelowTheLowestWriteStillWaiting() {
        WriteSession s = new WriteSession(7);
        Session one = s.next();
        Session two = s.next();
        Session three = s.next();
        s.settled(two, true);
        assertThat(s.ackedBelow()).isEqualTo(1); // 1 still waits
        s.settled(one, true);
        assertThat(s.ackedBelow()).isEqualTo(3);
        s.settled(three, true);
        assertThat(s.ackedBelow()).isEqualTo(4);
        assertThat(s.next()).isEqualTo(new Session(7, 4, 4));
    }

    @Test
    void refusesToRunTooFarAheadOfAnUnansweredWrite() {
        WriteSession s = new WriteSession(7);
        Session stuck = s.next();
        s.settled(s.next(), true);
        for (int i = 2; i < WriteSession.MAX_UNACKNOWLEDGED; i++) {
            s.settled(s.next(), true);
        }
        assertThatThrownBy(s::next).isInstanceOf(ClusterUnavailableException.class).hasMessageContaining("write 1");
        s.settled(stuck, true);
        assertThat(s.next().ackedBelow()).isEqualTo(s.ackedBelow());
    }
}
