package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.Session;
import io.flotilla.core.Bytes;
import io.flotilla.core.OutcomeUnknownException;
import io.flotilla.core.RaftException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** How a failed request is answered: "not applied" only when that is certain (docs/protocol.md). */
class KvServiceTest {
    private static final Request WRITE = new Request.Set(new Session(7, 1, 1), Bytes.utf8("k"), Bytes.utf8("v"));
    private static final Request READ = new Request.Get(Bytes.utf8("k"), false);
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @Test
    void aWriteWhoseOutcomeTheNodeLostIsUnknownNotAnInternalError() {
        Response r = KvService.failure(new OutcomeUnknownException("node 1 stopped with the command at index 7 uncommitted"), WRITE, TIMEOUT);
        assertThat(r.code()).isEqualTo(Response.Code.UNKNOWN_OUTCOME);
        assertThat(((Response.Failure) r).message())
                .startsWith("node 1 stopped with the command at index 7 uncommitted")
                .contains("may or may not have been applied")
                .doesNotContain("internal error");
    }

    @Test
    void aRefusalBeforeTheLogIsNotApplied() {
        Response r = KvService.failure(new RaftException("node 1 is overloaded; retry later"), WRITE, TIMEOUT);
        assertThat(r).isEqualTo(new Response.Failure(Response.Code.UNAVAILABLE, "node 1 is overloaded; retry later (not applied)"));
    }

    @Test
    void aTimeoutOrAnUnexpectedErrorLeavesAWriteUnknownAndAReadUnavailable() {
        assertThat(KvService.failure(new TimeoutException(), WRITE, TIMEOUT).code()).isEqualTo(Response.Code.UNKNOWN_OUTCOME);
        assertThat(KvService.failure(new IllegalStateException("bug"), WRITE, TIMEOUT).code()).isEqualTo(Response.Code.UNKNOWN_OUTCOME);
        assertThat(KvService.failure(new TimeoutException(), READ, TIMEOUT).code()).isEqualTo(Response.Code.UNAVAILABLE);
        assertThat(KvService.failure(new OutcomeUnknownException("lost"), READ, TIMEOUT))
                .isEqualTo(new Response.Failure(Response.Code.UNAVAILABLE, "lost"));
    }
}
