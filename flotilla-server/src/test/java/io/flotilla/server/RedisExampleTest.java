package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.server.example.RedisExample;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Redis client example is this test tree's RedisExample, verbatim, and it runs against a follower. */
class RedisExampleTest {
    private static final Path EXAMPLE = Path.of("src/test/java/io/flotilla/server/example/RedisExample.java");

    @Test
    void readmeShowsTheExampleVerbatim() throws Exception {
        Matcher block = Pattern.compile("<!-- example: RedisExample.java -->\\s*```java\\n(.*?)```", Pattern.DOTALL)
                .matcher(Files.readString(Path.of("../README.md")));
        assertThat(block.find()).as("README has the RedisExample.java block").isTrue();
        assertThat(block.group(1)).isEqualTo(Files.readString(EXAMPLE));
    }

    @Test
    void theExampleRunsAgainstAFollowersRedisPort(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 3).withResp().startAll()) {
            int follower = cluster.awaitLeader() == 1 ? 2 : 1;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrintStream original = System.out;
            try {
                System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
                RedisExample.main(new String[] {String.valueOf(cluster.respPort(follower))});
            } finally {
                System.setOut(original);
            }
            assertThat(out.toString(StandardCharsets.UTF_8).lines().toList()).isEqualTo(List.of("hello", "1", "bonjour"));
        }
    }
}
