package io.flotilla.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.client.wire.Session;
import org.junit.jupiter.api.Test;

class WriteSessionTest {
    @Test
    void aWriteRefusedBeforeTheLogIsAcknowledgedLikeAnyOther() {
        WriteSession s = new WriteSession(7);
        Session first = s.next();
        assertThat(first).isEqualTo(new Session(7, 1, 1));
        s.settled(first); // e.g. refused as invalid: the cluster never saw the session, and need not
        assertThat(s.next()).isEqualTo(new Session(7, 2, 2));
    }

    @Test
    void acknowledgesBelowTheLowestWriteStillWaiting() {
        WriteSession s = new WriteSession(7);
        Session one = s.next();
        Session two = s.next();
        Session three = s.next();
        s.settled(two);
        assertThat(s.ackedBelow()).isEqualTo(1); // 1 still waits
        s.settled(one);
        assertThat(s.ackedBelow()).isEqualTo(3);
        s.settled(three);
        assertThat(s.ackedBelow()).isEqualTo(4);
        assertThat(s.next()).isEqualTo(new Session(7, 4, 4));
    }

    @Test
    void refusesToRunTooFarAheadOfAnUnansweredWrite() {
        WriteSession s = new WriteSession(7);
        Session stuck = s.next();
        s.settled(s.next());
        for (int i = 2; i < WriteSession.MAX_UNACKNOWLEDGED; i++) {
            s.settled(s.next());
        }
        assertThatThrownBy(s::next).isInstanceOf(ClusterUnavailableException.class).hasMessageContaining("write 1");
        s.settled(stuck);
        assertThat(s.next().ackedBelow()).isEqualTo(s.ackedBelow());
    }

    @Test
    void anAttemptCarriesTheAcknowledgementAsItIsWhenSent() {
        WriteSession s = new WriteSession(7);
        Session first = s.next();
        Session second = s.next();
        assertThat(second.ackedBelow()).isEqualTo(1);
        assertThat(s.refreshed(second)).isEqualTo(second); // write 1 still waits
        s.settled(first);
        assertThat(s.refreshed(second)).isEqualTo(new Session(7, 2, 2));
        assertThat(s.refreshed(second.asRetry())).isEqualTo(new Session(7, 2, 2, true));
        s.settled(second);
        assertThat(s.refreshed(second)).isEqualTo(new Session(7, 2, 2)); // never above its own seq
    }
}
