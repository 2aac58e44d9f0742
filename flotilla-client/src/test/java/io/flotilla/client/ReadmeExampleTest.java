package io.flotilla.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's client example is the file the tests compile and run, so it cannot rot. */
class ReadmeExampleTest {
    static final Path EXAMPLE = Path.of("src/test/java/io/flotilla/client/example/ClientExample.java");
    static final String MARKER = "<!-- example: ClientExample.java -->";

    @Test
    void readmeShowsTheExampleVerbatim() throws Exception {
        String readme = Files.readString(Path.of("../README.md"));
        assumeTrue(readme.contains(MARKER), "README.md has no client section yet (" + MARKER + ")");
        Matcher block = Pattern.compile(Pattern.quote(MARKER) + "\\s*```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertThat(block.find()).as("README has the ClientExample block").isTrue();
        assertThat(block.group(1)).isEqualTo(Files.readString(EXAMPLE));
    }

    @Test
    void exampleCompilesAndRunsAgainstACluster(@TempDir Path dir) throws Exception {
        try (FakeCluster cluster = new FakeCluster(3)) {
            cluster.setLeader(2);
            assertThat(compileAndRun(dir, cluster.addresses()))
                    .isEqualTo(List.of("greeting = hello", "swapped: true", "counter = 1"));
        }
    }

    /** Compiles the example against the test class path and runs its main; answers what it printed. */
    static List<String> compileAndRun(Path dir, String clusterArgument) throws Exception {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        Path source = Files.copy(EXAMPLE, dir.resolve("ClientExample.java"));
        int rc = javac.run(null, null, null, "-d", dir.toString(), "-cp", System.getProperty("java.class.path"), source.toString());
        assertThat(rc).as("javac exit code").isZero();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, ReadmeExampleTest.class.getClassLoader())) {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            Method main = loader.loadClass("ClientExample").getMethod("main", String[].class);
            main.invoke(null, (Object) new String[] {clusterArgument});
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
        return out.toString(StandardCharsets.UTF_8).lines().toList();
    }
}
