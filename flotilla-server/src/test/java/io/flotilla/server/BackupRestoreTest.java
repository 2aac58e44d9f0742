package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.client.BackupFile;
import io.flotilla.client.ClientOptions;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.NodeConnection;
import io.flotilla.client.Poll;
import io.flotilla.client.ReadConsistency;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.SnapshotInfo;
import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.server.kv.KvStateMachine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Backups and restores with real nodes on real sockets in this JVM. The same end to end with processes: BackupRestoreIT. */
class BackupRestoreTest {
    @TempDir
    Path dir;
    private TestCluster old;
    private TestCluster restored;

    @AfterEach
    void tearDown() {
        if (old != null) {
            old.close();
        }
        if (restored != null) {
            restored.close();
        }
    }

    private static ClientOptions clientFor(TestCluster cluster, int... ids) {
        List<InetSocketAddress> nodes = new java.util.ArrayList<>();
        for (int id : ids) {
            nodes.add(cluster.addresses.get(id));
        }
        return ClientOptions.defaults().withCluster(nodes).withDeadline(Duration.ofSeconds(20));
    }

    private ServerConfig restoring(TestCluster cluster, int id, Path backup) {
        ServerConfig config = cluster.config(id);
        return config.with(config.admin().withRestore(backup));
    }

    @Test
    void aBackupSavedThroughAFollowerRestoresIntoANewClusterThatTakesWrites() throws Exception {
        old = new TestCluster(dir.resolve("old"), 3);
        old.snapshotEntries = 50; // compaction and snapshots along the way
        old.startAll();
        int leader = old.awaitLeader();
        int follower = leader % 3 + 1;
        Path backup = dir.resolve("backup.flot");
        BackupFile.Saved saved;
        try (FlotillaClient client = FlotillaClient.create(clientFor(old, follower))) { // every request goes through the follower
            for (int i = 0; i < 300; i++) {
                client.set("key-" + i, "value-" + i);
            }
            client.delete("key-7");
            saved = client.saveSnapshot(backup);
        }
        assertThat(saved.path()).isEqualTo(backup);
        assertThat(saved.header().nodeId()).as("served by the leader").isEqualTo(leader);
        assertThat(saved.header().clusterId()).isEqualTo("test");
        assertThat(saved.header().index()).isGreaterThanOrEqualTo(302);
        assertThat(ClusterConfig.decode(saved.header().config()).voters()).containsExactly(1, 2, 3);
        assertThat(BackupFile.verify(backup)).isEqualTo(saved.header());
        assertThat(saved.fileBytes()).isEqualTo(Files.size(backup));
        old.close();
        old = null;

        restored = new TestCluster(dir.resolve("new"), 3);
        for (int id = 1; id <= 3; id++) {
            restored.startWith(id, restoring(restored, id, backup));
        }
        restored.awaitLeader();
        try (FlotillaClient client = FlotillaClient.create(clientFor(restored, 1, 2, 3))) {
            for (int i = 0; i < 300; i++) {
                assertThat(client.get("key-" + i)).as("key-%d", i).isEqualTo(i == 7 ? Optional.empty() : Optional.of("value-" + i));
            }
            client.set("after", "restore");
            assertThat(client.get("after")).contains("restore");
        }
        for (int id = 1; id <= 3; id++) {
            int node = id;
            Poll.until("node " + node + " applies the new write after the restored state", () -> restored.nodes.get(node).raft().status().appliedIndex() > saved.header().index(), restored::statuses);
            assertThat(restored.nodes.get(id).stateMachine().query(new Request.Get(Bytes.utf8("key-299"), true)))
                    .isEqualTo(new Response.Value(Bytes.utf8("value-299")));
            assertThat(restored.nodes.get(id).raft().status().members().voters()).containsExactly(1, 2, 3);
        }
    }

    @Test
    void anOpenSnapshotIsReadWholeWhileTheLeaderTakesNewerOnesAndCompacts() throws Exception {
        old = new TestCluster(dir.resolve("old"), 3);
        old.snapshotEntries = 20;
        old.startAll();
        int leader = old.awaitLeader();
        NodeConnection c = old.connect(leader);
        for (int i = 0; i < 100; i++) {
            assertThat(old.set(c, "k" + i, "v" + i)).isEqualTo(Response.OK);
        }
        SnapshotInfo info = ((Response.Snapshot) TestCluster.call(c, new Request.SnapshotBegin())).info();
        assertThat(info.nodeId()).isEqualTo(leader);
        assertThat(info.index()).isGreaterThanOrEqualTo(101);
        for (int i = 100; i < 300; i++) { // about ten newer snapshots: the open one's file is deleted
            assertThat(old.set(c, "k" + i, "v" + i)).isEqualTo(Response.OK);
        }
        Path leaderData = old.config(leader).dataDir();
        Poll.until("the snapshot's file is deleted", () -> !Files.exists(leaderData.resolve("snapshot_" + info.index() + "_" + info.term())));

        int follower = leader % 3 + 1;
        NodeConnection viaFollower = old.connect(follower); // relayed to the node holding it
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        while (data.size() < info.dataLength()) {
            Response r = TestCluster.call(data.size() % 2 == 0 ? viaFollower : c,
                    new Request.SnapshotRead(info.nodeId(), info.streamId(), data.size(), 999));
            Response.SnapshotData piece = (Response.SnapshotData) r;
            assertThat(piece.offset()).isEqualTo(data.size());
            assertThat(piece.data().length()).isBetween(1, 999);
            data.write(piece.data().unsafeArray());
        }
        assertThat(data.size()).isEqualTo(info.dataLength());
        CRC32C crc = new CRC32C();
        crc.update(data.toByteArray());
        assertThat((int) crc.getValue()).isEqualTo(info.dataCrc());
        KvStateMachine state = new KvStateMachine();
        state.restore(new ByteArrayInputStream(data.toByteArray()));
        assertThat(state.size()).as("the state at the snapshot's index, not later").isEqualTo(100);

        Response.SnapshotData end = (Response.SnapshotData) TestCluster.call(c, new Request.SnapshotRead(info.nodeId(), info.streamId(),
                info.dataLength(), 10));
        assertThat(end.data().length()).isZero();
        Response huge = TestCluster.call(c, new Request.SnapshotRead(info.nodeId(), info.streamId(), 0, Integer.MAX_VALUE));
        assertThat(((Response.SnapshotData) huge).data().length()).as("bounded by the frame").isLessThan(4 << 20);
        assertThat(TestCluster.call(c, new Request.SnapshotRead(info.nodeId(), info.streamId(), info.dataLength() + 1, 10)))
                .isInstanceOf(Response.Failure.class).extracting(Response::code).isEqualTo(Response.Code.INVALID);
        Response unknown = TestCluster.call(c, new Request.SnapshotRead(info.nodeId(), 12345, 0, 10));
        assertThat(unknown.code()).isEqualTo(Response.Code.INVALID);
        assertThat(((Response.Failure) unknown).message()).contains("is not open on node " + leader, "start the backup again");
    }

    @Test
    void restoreRefusesADataDirectoryWithDataAndABackupThatIsDamaged() throws Exception {
        old = new TestCluster(dir.resolve("old"), 3).startAll();
        old.awaitLeader();
        Path backup = dir.resolve("backup.flot");
        try (FlotillaClient client = FlotillaClient.create(clientFor(old, 1, 2, 3))) {
            client.set("k", "v");
            client.saveSnapshot(backup);
        }
        int id = 1;
        old.halt(id); // its data directory holds data
        assertThatThrownBy(() -> FlotillaServer.start(restoring(old, id, backup), status -> { }))
                .isInstanceOf(IOException.class)
                .hasMessage("--restore " + backup + " refused: data directory " + old.config(id).dataDir() + " already holds data ("
                        + fileCount(old.config(id).dataDir()) + " files); a backup seeds only an empty data directory. A node restored"
                        + " earlier restarts without --restore");

        restored = new TestCluster(dir.resolve("new"), 3);
        byte[] all = Files.readAllBytes(backup);
        all[all.length - 3] ^= 0x01;
        Path damaged = Files.write(dir.resolve("damaged.flot"), all);
        assertThatThrownBy(() -> FlotillaServer.start(restoring(restored, 1, damaged), status -> { }))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("--restore refused: backup " + damaged + " is damaged: its data's checksum is crc32c:");
        Path truncated = Files.write(dir.resolve("truncated.flot"), java.util.Arrays.copyOf(Files.readAllBytes(backup), all.length - 10));
        assertThatThrownBy(() -> FlotillaServer.start(restoring(restored, 1, truncated), status -> { }))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("--restore refused: backup " + truncated + " is truncated");
        assertThat(restored.config(1).dataDir()).as("nothing was written").doesNotExist();
    }

    private static long fileCount(Path dir) throws IOException {
        try (var list = Files.list(dir)) {
            return list.count();
        }
    }

    @Test
    void aFounderStartedWithoutRestoreWhileTheOthersWereRestoredStopsInsteadOfFoundingAnotherCluster() throws Exception {
        old = new TestCluster(dir.resolve("old"), 3).startAll();
        old.awaitLeader();
        Path backup = dir.resolve("backup.flot");
        try (FlotillaClient client = FlotillaClient.create(clientFor(old, 1, 2, 3))) {
            client.set("k", "v");
            client.saveSnapshot(backup);
        }
        old.close();
        old = null;

        restored = new TestCluster(dir.resolve("new"), 3);
        restored.startWith(1, restoring(restored, 1, backup));
        restored.startWith(2, restoring(restored, 2, backup));
        restored.start(3); // forgotten: no --restore
        assertThat(restored.exits.get(3).get(30, TimeUnit.SECONDS)).isEqualTo(FlotillaServer.EXIT_NODE_FAILED);
        restored.nodes.remove(3);
        try (FlotillaClient client = FlotillaClient.create(clientFor(restored, 1, 2))) {
            assertThat(client.get("k")).contains("v");
            assertThat(client.get("k", ReadConsistency.STALE)).contains("v");
        }
    }
}
