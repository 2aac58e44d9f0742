package io.flotilla.client.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.Bytes;
import io.flotilla.core.Member;
import io.flotilla.core.MembershipChange;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Round trips of protocol version 3's membership messages and version 4's snapshots, and what older versions still read. */
class WireCodecTest {
    @Test
    void membershipRequestsRoundTrip() {
        for (Request r : List.of(new Request.MemberList(),
                new Request.MemberChange(new MembershipChange.AddLearner(4, "127.0.0.1:5004", true)),
                new Request.MemberChange(new MembershipChange.AddLearner(5, "db5.example.com:6000", false)),
                new Request.MemberChange(new MembershipChange.Promote(5)),
                new Request.MemberChange(new MembershipChange.Remove(3)))) {
            WireCodec.Tagged<Request> back = WireCodec.decodeRequest(WireCodec.encodeRequest(42, r));
            assertThat(back.requestId()).isEqualTo(42);
            assertThat(back.body()).isEqualTo(r);
        }
        assertThat(new Request.MemberChange(new MembershipChange.Remove(3)).changesState()).isTrue();
        assertThat(new Request.MemberChange(new MembershipChange.Remove(3))).as("no session").isNotInstanceOf(Request.Write.class);
        assertThat(new Request.MemberList().changesState()).isFalse();
    }

    @Test
    void requestsAndAnswersOfManyKeysRoundTrip() {
        Session session = new Session(9, 2, 1);
        for (Request r : List.of(new Request.GetMany(List.of(Bytes.utf8("a"), Bytes.utf8("b")), true),
                new Request.SetMany(session, List.of(new Request.KeyValue(Bytes.utf8("a"), Bytes.utf8("1")))),
                new Request.DeleteMany(session, List.of(Bytes.utf8("a"), Bytes.EMPTY)))) {
            assertThat(WireCodec.decodeRequest(WireCodec.encodeRequest(7, r)).body()).isEqualTo(r);
        }
        for (Response r : List.of(new Response.Count(3), new Response.Values(List.of(Optional.of(Bytes.utf8("x")), Optional.empty())))) {
            assertThat(WireCodec.decodeResponse(WireCodec.encodeResponse(7, r)).body()).isEqualTo(r);
        }
        ByteBuffer lying = WireCodec.encodeRequest(7, new Request.GetMany(List.of(Bytes.utf8("a")), false));
        lying.putInt(8 + 1 + 1, 1_000_000); // id, type, stale: then the count
        assertThatThrownBy(() -> WireCodec.decodeRequest(lying)).isInstanceOf(ProtocolException.class).hasMessageContaining("1000000 keys");
    }

    @Test
    void theMembershipAnswerRoundTrips() {
        Membership m = new Membership(1, List.of(
                new Membership.MemberInfo(1, "127.0.0.1:5001", Member.Kind.VOTER, 120, 0),
                new Membership.MemberInfo(4, "127.0.0.1:5004", Member.Kind.JOINING, 7, 113),
                new Membership.MemberInfo(5, "", Member.Kind.LEARNER, 0, 120)), List.of(2, 3));
        Response back = WireCodec.decodeResponse(WireCodec.encodeResponse(9, new Response.Members(m))).body();
        assertThat(back).isEqualTo(new Response.Members(m));
        assertThat(m.member(4).orElseThrow().lag()).isEqualTo(113);
        assertThat(m.isRemoved(3)).isTrue();
    }

    @Test
    void aStatusCarriesTheConfigurationFromVersion3AndNotBefore() {
        TreeMap<Integer, Member.Kind> members = new TreeMap<>();
        members.put(1, Member.Kind.VOTER);
        members.put(4, Member.Kind.LEARNER);
        NodeStatus full = new NodeStatus(1, "LEADER", 3, 1, 10, 10, 11, members, true);
        Response v3 = WireCodec.decodeResponse(WireCodec.encodeResponse(1, new Response.Status(full), 3)).body();
        assertThat(v3).isEqualTo(new Response.Status(full));
        // A client of version 2 reads exactly the fields it knows: no bytes it would refuse as unexpected.
        ByteBuffer v2 = WireCodec.encodeResponse(1, new Response.Status(full), 2);
        assertThat(WireCodec.decodeResponse(v2).body()).isEqualTo(new Response.Status(new NodeStatus(1, "LEADER", 3, 1, 10, 10, 11)));
    }

    @Test
    void aStatusCarriesItsDetailsAndRequestCountersFromVersion4AndNotBefore() {
        TreeMap<Integer, Member.Kind> members = new TreeMap<>();
        members.put(1, Member.Kind.VOTER);
        NodeStatus.Details details = new NodeStatus.Details("1.2.3", 5_000, 12, 8, 2, 1_700_000_000_000L, 42, 4096,
                "no leader is known", 1_234_567_890_123L, 77);
        NodeStatus full = new NodeStatus(1, "FOLLOWER", 3, 0, 10, 9, 11, members, false, details);
        Response v4 = WireCodec.decodeResponse(WireCodec.encodeResponse(1, new Response.Status(full), 4)).body();
        assertThat(v4).isEqualTo(new Response.Status(full));
        Response v3 = WireCodec.decodeResponse(WireCodec.encodeResponse(1, new Response.Status(full), 3)).body();
        assertThat(((Response.Status) v3).status().details()).isEqualTo(NodeStatus.Details.UNKNOWN);
    }

    @Test
    void aClientHelloIsRole1WithNodeId0() {
        ByteBuffer hello = WireCodec.encodeHello(new Hello(3, "prod"));
        assertThat(hello.getInt(0)).isEqualTo(WireCodec.MAGIC);
        assertThat(hello.get(4)).as("version").isEqualTo((byte) 3);
        assertThat(hello.get(5)).as("role").isEqualTo((byte) 1);
        assertThat(hello.getInt(6)).as("node id").isZero();
        assertThat(hello.getShort(10)).as("cluster id length").isEqualTo((short) 4);
        assertThat(hello.remaining()).isEqualTo(16);
    }

    @Test
    void helloRepliesSayTheirVersionAndMalformedMembershipIsRefused() {
        Hello.Limits limits = new Hello.Limits(1, 2, 3);
        for (int version = 1; version <= WireCodec.VERSION; version++) {
            Hello.Reply reply = new Hello.Reply(true, 2, "c", "", version >= 2 ? Optional.of(limits) : Optional.empty(), version);
            assertThat(WireCodec.decodeHelloReply(WireCodec.encodeHelloReply(reply))).isEqualTo(reply);
        }
        ByteBuffer bad = WireCodec.encodeRequest(1, new Request.MemberChange(new MembershipChange.Remove(3)));
        bad.put(9, (byte) 9); // the change kind
        assertThatThrownBy(() -> WireCodec.decodeRequest(bad)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("unknown membership change 9");
        ByteBuffer huge = WireCodec.encodeResponse(1, new Response.Members(new Membership(1, List.of(), List.of())));
        huge.putInt(14, Integer.MAX_VALUE); // the member count
        assertThatThrownBy(() -> WireCodec.decodeResponse(huge)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("members with");
    }

    @Test
    void snapshotRequestsAndAnswersRoundTrip() {
        for (Request r : List.of(new Request.SnapshotBegin(), new Request.SnapshotRead(3, Long.MAX_VALUE, 1L << 40, 1 << 20))) {
            assertThat(WireCodec.decodeRequest(WireCodec.encodeRequest(7, r)).body()).isEqualTo(r);
            assertThat(r.changesState()).isFalse();
        }
        SnapshotInfo info = new SnapshotInfo(2, 0x1234_5678_9abcL, "prod", 4096, 7, Bytes.utf8("config"), 1L << 33, 0xcafebabe);
        for (Response r : List.of(new Response.Snapshot(info), new Response.SnapshotData(1L << 32, Bytes.wrap(new byte[100_000])),
                new Response.SnapshotData(5, Bytes.EMPTY))) {
            for (int version = 1; version <= WireCodec.VERSION; version++) { // relays between nodes speak version 1
                assertThat(WireCodec.decodeResponse(WireCodec.encodeResponse(7, r, version)).body()).isEqualTo(r);
            }
        }
    }

    @Test
    void malformedSnapshotAnswersAreRefusedBeforeAnythingIsAllocated() {
        ByteBuffer data = WireCodec.encodeResponse(1, new Response.SnapshotData(0, Bytes.wrap(new byte[10])));
        data.putInt(18, Integer.MAX_VALUE); // the data's length, after id, code, form and offset
        assertThatThrownBy(() -> WireCodec.decodeResponse(data)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("byte string of 2147483647 bytes");
        ByteBuffer truncated = WireCodec.encodeResponse(1, new Response.Snapshot(
                new SnapshotInfo(1, 1, "c", 1, 1, Bytes.EMPTY, 0, 0)));
        truncated.limit(truncated.limit() - 1);
        assertThatThrownBy(() -> WireCodec.decodeResponse(truncated)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("truncated response");
        ByteBuffer badIndex = WireCodec.encodeResponse(1, new Response.Snapshot(new SnapshotInfo(1, 1, "c", 1, 1, Bytes.EMPTY, 0, 0)));
        badIndex.putLong(8 + 1 + 1 + 4 + 8 + 3, 0); // the index, after id, code, form, node, stream and "c"
        assertThatThrownBy(() -> WireCodec.decodeResponse(badIndex)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("invalid response");
    }
}
