package io.flotilla.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.client.BackupFile;
import io.flotilla.client.FakeCluster;
import io.flotilla.client.FakeCluster.Answer;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.SnapshotInfo;
import io.flotilla.core.Bytes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code snapshot save} and {@code snapshot verify} against a fake cluster that serves a snapshot over real sockets. */
class SnapshotCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final FakeCluster cluster = new FakeCluster(3);
    private final String nodes = cluster.addresses();
    @TempDir
    Path dir;

    /** The snapshot the leader serves: 2.5 MiB, so that it takes three reads of 1 MiB. */
    private final byte[] data = new byte[(5 << 20) / 2];
    private final int crc;
    private final AtomicInteger begins = new AtomicInteger();
    /** How many of the first snapshots are served damaged (a flipped byte), and how many are lost after one read. */
    private volatile int damaged;
    private volatile int lost;
    private final Map<Long, Integer> streamNumber = new ConcurrentHashMap<>();
    private final List<Request.SnapshotRead> reads = java.util.Collections.synchronizedList(new ArrayList<>());

    SnapshotCliTest() {
        new SplittableRandom(3).nextBytes(data);
        CRC32C c = new CRC32C();
        c.update(data);
        crc = (int) c.getValue();
        cluster.maxVersion = 4;
        cluster.nodes.forEach(n -> n.interceptor = this::serve);
    }

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    /** Node 1 leads and holds the snapshots; the others relay to it, as real nodes do. */
    private Answer serve(Request request) {
        if (request instanceof Request.SnapshotBegin) {
            int n = begins.incrementAndGet();
            long stream = 1000 + n;
            streamNumber.put(stream, n);
            return Answer.respond(new Response.Snapshot(new SnapshotInfo(1, stream, "prod", 42, 3, Bytes.utf8("config"), data.length,
                    crc)));
        }
        if (request instanceof Request.SnapshotRead r) {
            reads.add(r);
            int n = streamNumber.getOrDefault(r.streamId(), 0);
            if (n <= lost && r.offset() > 0) {
                return Answer.respond(new Response.Failure(Response.Code.INVALID, "snapshot stream " + r.streamId() + " is not open"));
            }
            byte[] piece = Arrays.copyOfRange(data, (int) r.offset(), (int) Math.min(data.length, r.offset() + r.maxBytes()));
            if (n <= damaged && r.offset() == 0) {
                piece[10] ^= 1;
            }
            return Answer.respond(new Response.SnapshotData(r.offset(), Bytes.wrap(piece)));
        }
        return null;
    }

    private CliRun cli(String... args) {
        List<String> all = new ArrayList<>(List.of("--cluster", nodes));
        all.addAll(List.of(args));
        return CliRun.of(all.toArray(String[]::new));
    }

    @Test
    void saveWritesAVerifiedBackupAndPrintsOneLine() throws Exception {
        Path file = dir.resolve("backup.flot");
        CliRun save = cli("snapshot", "save", file.toString());
        assertThat(save.exit()).as("%s", save).isZero();
        BackupFile.Header header = BackupFile.verify(file);
        long size = Files.size(file);
        assertThat(save.out()).isEqualTo("index=42 term=3 bytes=" + size + " checksum=" + BackupFile.describeCrc(crc) + " path=" + file
                + "\n");
        assertThat(save.err()).isEmpty();
        assertThat(header.index()).isEqualTo(42);
        assertThat(header.term()).isEqualTo(3);
        assertThat(header.clusterId()).isEqualTo("prod");
        assertThat(header.config()).isEqualTo(Bytes.utf8("config"));
        try (var in = BackupFile.openData(file, header)) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
        assertThat(dir.resolve("backup.flot.tmp")).doesNotExist();
        assertThat(reads).hasSize(3).allSatisfy(r -> assertThat(r.maxBytes()).isLessThanOrEqualTo(1 << 20));

        CliRun json = cli("-o", "json", "snapshot", "save", file.toString()); // replaces the file
        assertThat(json.exit()).as("%s", json).isZero();
        JsonNode j = JSON.readTree(json.out());
        assertThat(j.get("command").asText()).isEqualTo("snapshot save");
        assertThat(j.get("index").asLong()).isEqualTo(42);
        assertThat(j.get("term").asLong()).isEqualTo(3);
        assertThat(j.get("bytes").asLong()).isEqualTo(size);
        assertThat(j.get("dataBytes").asLong()).isEqualTo(data.length);
        assertThat(j.get("checksum").asText()).isEqualTo(BackupFile.describeCrc(crc));
        assertThat(j.get("path").asText()).isEqualTo(file.toString());
        assertThat(j.get("result").asText()).isEqualTo("ok");

        CliRun verify = CliRun.of("snapshot", "verify", file.toString());
        assertThat(verify.exit()).isZero();
        assertThat(verify.out()).isEqualTo(save.out());
    }

    @Test
    void aFileThatCannotBeWrittenIsRefusedBeforeAskingTheCluster() {
        Path nowhere = dir.resolve("missing").resolve("backup.flot");
        CliRun save = cli("snapshot", "save", nowhere.toString());
        assertThat(save.exit()).as("%s", save).isEqualTo(ExitCode.INVALID);
        assertThat(save.err()).isEqualTo("flotilla-client: snapshot save: cannot write " + nowhere + ": directory " + nowhere.getParent()
                + " does not exist\n");
        CliRun directory = cli("snapshot", "save", dir.toString());
        assertThat(directory.exit()).isEqualTo(ExitCode.INVALID);
        assertThat(directory.err()).contains("is a directory");
        assertThat(begins).hasValue(0);
        assertThat(cli("snapshot", "save").exit()).isEqualTo(ExitCode.INVALID);
    }

    @Test
    void aSnapshotThatArrivesDamagedIsTakenAgainThenGivenUpLeavingAnOldBackupAlone() throws Exception {
        Path file = dir.resolve("backup.flot");
        Files.writeString(file, "the previous backup");
        damaged = Integer.MAX_VALUE;
        CliRun save = cli("snapshot", "save", file.toString());
        assertThat(save.exit()).as("%s", save).isEqualTo(ExitCode.UNAVAILABLE);
        assertThat(save.err().lines().count()).isEqualTo(1);
        assertThat(save.err()).contains("the snapshot arrived damaged", "3 snapshots tried", "nothing was written to " + file);
        assertThat(begins).hasValue(3);
        assertThat(Files.readString(file)).isEqualTo("the previous backup");
        assertThat(dir.resolve("backup.flot.tmp")).doesNotExist();
    }

    @Test
    void aSnapshotLostMidwayIsTakenAgain() throws Exception {
        Path file = dir.resolve("backup.flot");
        lost = 1;
        damaged = 2; // the second one arrives damaged too: the third is saved
        CliRun save = cli("snapshot", "save", file.toString());
        assertThat(save.exit()).as("%s", save).isZero();
        assertThat(begins).hasValue(3);
        assertThat(BackupFile.verify(file).dataCrc()).isEqualTo(crc);
    }

    @Test
    void aNodeOfAnOlderProtocolIsNotSentTheRequest() {
        cluster.maxVersion = 3;
        CliRun save = cli("snapshot", "save", dir.resolve("b").toString());
        assertThat(save.exit()).as("%s", save).isEqualTo(ExitCode.INVALID);
        assertThat(save.err()).contains("speaks protocol version 3, which has no snapshot requests (version 4 does): upgrade it first");
        assertThat(begins).hasValue(0);
    }

    @Test
    void verifyRefusesADamagedFileInOneLine() throws Exception {
        Path file = dir.resolve("backup.flot");
        assertThat(cli("snapshot", "save", file.toString()).exit()).isZero();
        byte[] all = Files.readAllBytes(file);
        all[all.length - 5] ^= 0x40;
        Files.write(file, all);
        CliRun verify = CliRun.of("snapshot", "verify", file.toString());
        assertThat(verify.exit()).isEqualTo(ExitCode.INVALID);
        assertThat(verify.err()).startsWith("flotilla-client: backup " + file + " is damaged: its data's checksum is crc32c:");
        assertThat(verify.err().lines().count()).isEqualTo(1);
        CliRun missing = CliRun.of("-o", "json", "snapshot", "verify", dir.resolve("nope").toString());
        assertThat(missing.exit()).isEqualTo(ExitCode.INVALID);
        assertThat(missing.out()).contains("\"result\":\"invalid\"", "cannot read");
    }
}
