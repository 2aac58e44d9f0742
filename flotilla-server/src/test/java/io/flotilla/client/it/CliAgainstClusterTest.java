package io.flotilla.client.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.client.cli.FlotillaCli;
import io.flotilla.server.TestCluster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line and the README example against real nodes. */
class CliAgainstClusterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path data;
    private static TestCluster cluster;

    @BeforeAll
    static void start() throws IOException {
        cluster = new TestCluster(data, 3).startAll();
        cluster.awaitLeader();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private record Run(int exit, String out, String err) {
    }

    private static Run cli(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] all = new String[args.length + 2];
        all[0] = "--cluster";
        all[1] = cluster.clusterAddresses();
        System.arraycopy(args, 0, all, 2, args.length);
        int exit = FlotillaCli.run(all, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), out, err);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void everyCommandWorksWithExitCodes() throws Exception {
        assertThat(cli("", "set", "city", "Lisbon")).isEqualTo(new Run(0, "OK\n", ""));
        assertThat(cli("", "get", "city")).isEqualTo(new Run(0, "Lisbon\n", ""));
        assertThat(cli("", "get", "--stale", "city").exit()).isZero();
        assertThat(cli("", "cas", "city", "Porto", "Faro").exit()).isEqualTo(2);
        assertThat(cli("", "cas", "city", "Lisbon", "Faro")).isEqualTo(new Run(0, "OK\n", ""));
        assertThat(cli("", "cas", "--expect-absent", "town", "Evora").exit()).isZero();
        assertThat(cli("", "delete", "city")).isEqualTo(new Run(0, "OK\n", ""));
        assertThat(cli("", "get", "city")).isEqualTo(new Run(1, "", "flotilla-client: get: key \"city\" not found\n"));
        assertThat(cli("", "set", "", "x").exit()).isEqualTo(4); // the node refuses an empty key

        Run status = cli("", "-o", "json", "status");
        assertThat(status.exit()).isZero();
        JsonNode json = JSON.readTree(status.out());
        assertThat(json.get("nodes")).hasSize(3);
        assertThat(json.get("unreachable")).isEmpty();
        int leader = json.get("leader").get("id").asInt();
        assertThat(leader).isEqualTo(cluster.awaitLeader());
        for (JsonNode node : json.get("nodes")) {
            assertThat(node.get("leaderId").asInt()).isEqualTo(leader);
            assertThat(node.get("appliedIndex").asLong()).isPositive();
        }
    }

    @Test
    void theShellTakesCommandsFromStandardInput() {
        StringBuilder script = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            script.append("set shell-").append(i).append(' ').append(i).append('\n');
        }
        script.append("get shell-42\ncas shell-42 42 answer\nget shell-42\n");
        Run run = cli(script.toString(), "shell");
        assertThat(run.exit()).as(run.err()).isZero();
        List<String> lines = run.out().lines().toList();
        assertThat(lines).hasSize(103);
        assertThat(lines.subList(100, 103)).containsExactly("42", "OK", "answer");
    }

    @Test
    void theReadmeExampleRunsAgainstTheCluster(@TempDir Path dir) throws Exception {
        Path example = Path.of("../flotilla-client/src/test/java/io/flotilla/client/example/ClientExample.java");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        Path source = Files.copy(example, dir.resolve("ClientExample.java"));
        assertThat(javac.run(null, null, null, "-d", dir.toString(), "-cp", System.getProperty("java.class.path"), source.toString()))
                .isZero();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            Method main = loader.loadClass("ClientExample").getMethod("main", String[].class);
            main.invoke(null, (Object) new String[] {cluster.clusterAddresses()});
        } finally {
            System.setOut(original);
        }
        assertThat(out.toString(StandardCharsets.UTF_8).lines().toList())
                .containsExactly("greeting = hello", "swapped: true", "counter = 1");
    }
}
