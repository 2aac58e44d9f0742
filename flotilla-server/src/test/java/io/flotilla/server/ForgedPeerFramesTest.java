package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.flotilla.client.NodeConnection;
import io.flotilla.client.Poll;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.Session;
import io.flotilla.client.wire.WireCodec;
import io.flotilla.core.Bytes;
import io.flotilla.core.EntryType;
import io.flotilla.core.LogEntry;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.message.AppendEntries;
import io.flotilla.core.message.InstallSnapshot;
import io.flotilla.core.message.Message;
import io.flotilla.core.message.MessageCodec;
import io.flotilla.core.message.RequestVote;
import io.flotilla.core.message.TimeoutNow;
import io.flotilla.core.protocol.RaftNode;
import io.flotilla.core.protocol.Status;
import io.flotilla.server.kv.KvCodec;
import io.flotilla.server.kv.KvCommand;
import io.flotilla.server.net.NodeHello;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a plaintext port anyone can say "I am node 3". What such a sender says that contradicts what a
 * node knows (a second leader in a term, a hand-over from a node that does not lead, or from a term
 * nobody reached, a vote request while a leader is heard) is dropped: the node survives, its log and
 * term are unchanged, and it says so once. What cannot be told from the truth without credentials is
 * TLS's job (TlsClusterTest, docs/security.md).
 */
class ForgedPeerFramesTest {
    private static final int FORGED_APPENDS = 200;

    @TempDir
    Path data;

    @Test
    void forgedFramesFromAnotherFollowersIdentityChangeNothingAndAreLoggedOnce() throws Exception {
        ListAppender<ILoggingEvent> logged = MembershipTest.capture(RaftNode.class);
        try (TestCluster cluster = new TestCluster(data, 3).startAll()) {
            int leader = cluster.awaitLeader();
            NodeConnection client = cluster.connect(leader);
            assertThat(cluster.set(client, "k", "real")).isEqualTo(Response.OK);
            int target = leader % 3 + 1;
            int impostor = 6 - leader - target; // the third node, also a follower
            FlotillaServer node = cluster.nodes.get(target);
            Poll.until("the target caught up", () -> node.raft().status().appliedIndex() == node.raft().status().lastIndex()
                    && node.raft().status().lastIndex() == cluster.nodes.get(leader).raft().status().lastIndex());
            Status before = node.raft().status();

            List<Message> forged = forgedFrames(impostor, target, before);
            try (Socket s = new Socket("127.0.0.1", cluster.addresses.get(target).getPort())) {
                s.setSoTimeout(5000);
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                frame(out, NodeHello.peer(impostor, "test").encode());
                DataInputStream in = new DataInputStream(s.getInputStream());
                byte[] reply = new byte[in.readInt()];
                in.readFully(reply);
                assertThat(WireCodec.decodeHelloReply(ByteBuffer.wrap(reply)).accepted()).isTrue(); // plaintext: no credentials to check
                MessageCodec codec = new MessageCodec(4 << 20);
                for (Message m : forged) {
                    ByteBuffer body = ByteBuffer.allocate(codec.encodedSize(m));
                    codec.encode(m, body);
                    body.flip();
                    frame(out, body);
                }
                long expectedDrops = forged.size() - 1; // all but the vote request, which is refused as any in-lease vote
                Poll.until("the forged frames were dropped", () -> node.raft().status().droppedInvalid() >= before.droppedInvalid() + expectedDrops, () -> node.raft().status().toString());
            }

            Status after = node.raft().status();
            assertThat(after.term()).isEqualTo(before.term());
            assertThat(after.leader()).isEqualTo(leader);
            assertThat(after.lastIndex()).isEqualTo(before.lastIndex());
            assertThat(after.commitIndex()).isEqualTo(before.commitIndex());
            assertThat(cluster.nodes.get(leader).raft().status().role()).isEqualTo(io.flotilla.core.protocol.Role.LEADER);
            NodeConnection direct = cluster.connect(target);
            assertThat(TestCluster.call(direct, new Request.Get(Bytes.utf8("k"), true))).isEqualTo(new Response.Value(Bytes.utf8("real")));
            assertThat(cluster.set(direct, "still", "serving")).isEqualTo(Response.OK);
            String prefix = "node " + target + " dropped";
            assertThat(MembershipTest.messages(logged).stream().filter(m -> m.startsWith(prefix)).toList())
                    .as("one line for %d forged frames", forged.size()).hasSize(1);
        } finally {
            MembershipTest.release(RaftNode.class, logged);
        }
    }

    /** What an impostor under a follower's id sends: each kind of message only a leader or a candidate sends. */
    private static List<Message> forgedFrames(int impostor, int target, Status s) {
        long term = s.term();
        long last = s.lastIndex();
        Bytes payload = new KvCodec().encode(new KvCommand.Write(0, new Request.Set(new Session(42, 1, 1), Bytes.utf8("k"), Bytes.utf8("forged"))));
        List<Message> out = new ArrayList<>();
        for (int i = 0; i < FORGED_APPENDS; i++) {
            // Append a write the leader never made, and commit it.
            out.add(new AppendEntries(impostor, target, term, last, term, List.of(new LogEntry(last + 1, term, EntryType.NORMAL, payload)),
                    last + 1, 0));
        }
        out.add(new InstallSnapshot(impostor, target, term, new SnapshotMeta(last + 100, term, s.members()), 0, Bytes.utf8("forged"), true, 0));
        out.add(new TimeoutNow(impostor, target, term));
        out.add(new TimeoutNow(impostor, target, term + 5));
        out.add(new RequestVote(impostor, target, term + 5, last + 100, term + 4, false, false));
        return out;
    }

    private static void frame(DataOutputStream out, ByteBuffer body) throws java.io.IOException {
        byte[] bytes = new byte[body.remaining()];
        body.duplicate().get(bytes);
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
    }
}
