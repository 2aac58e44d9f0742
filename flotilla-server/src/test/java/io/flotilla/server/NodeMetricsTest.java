package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Session;
import io.flotilla.core.Bytes;
import io.flotilla.core.MembershipChange;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class NodeMetricsTest {
    @Test
    void everyKindOfRequestHasItsCommandLabel() {
        Session s = new Session(1, 1, 1);
        List<Request> oneOfEach = List.of(new Request.Get(Bytes.utf8("k"), false), new Request.Set(s, Bytes.utf8("k"), Bytes.utf8("v")),
                new Request.Delete(s, Bytes.utf8("k")), new Request.Cas(s, Bytes.utf8("k"), Optional.empty(), Bytes.utf8("v")),
                new Request.GetMany(List.of(Bytes.utf8("k")), false),
                new Request.SetMany(s, List.of(new Request.KeyValue(Bytes.utf8("k"), Bytes.utf8("v")))),
                new Request.DeleteMany(s, List.of(Bytes.utf8("k"))),
                new Request.StatusQuery(), new Request.MemberList(),
                new Request.MemberChange(new MembershipChange.AddLearner(4, "127.0.0.1:5004", false)),
                new Request.SnapshotBegin(), new Request.SnapshotRead(1, 1, 0, 1024));
        // A new kind of request fails here until it is in the list above and has a label.
        assertThat(oneOfEach.stream().map(Object::getClass).distinct()).hasSize(kinds(Request.class));
        assertThat(oneOfEach.stream().map(r -> NodeMetrics.Command.of(r).label).distinct()).hasSize(oneOfEach.size());
    }

    /** The records a sealed type stands for (Request.Write is sealed in turn). */
    private static int kinds(Class<?> type) {
        return type.isSealed() ? Stream.of(type.getPermittedSubclasses()).mapToInt(NodeMetricsTest::kinds).sum() : 1;
    }
}
