package io.flotilla.core;

import static org.assertj.core.api.Assertions.assertThat;

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

/**
 * The README's examples are files the tests compile and run, so they cannot rot: the embedding
 * example here, and its simulation ({@code CounterSimulationTest}, a test surefire runs itself).
 */
class ReadmeExampleTest {
    private static final Path EXAMPLES = Path.of("src/test/java/io/flotilla/core/example");
    private static final Path EXAMPLE = EXAMPLES.resolve("CounterExample.java");

    @Test
    void readmeShowsTheExamplesVerbatim() throws Exception {
        String readme = Files.readString(Path.of("../README.md"));
        for (String example : List.of("CounterExample.java", "CounterSimulationTest.java")) {
            Matcher block = Pattern.compile("<!-- example: " + Pattern.quote(example) + " -->\\s*```java\\n(.*?)```",
                    Pattern.DOTALL).matcher(readme);
            assertThat(block.find()).as("README has the " + example + " block").isTrue();
            assertThat(block.group(1)).as(example).isEqualTo(Files.readString(EXAMPLES.resolve(example)));
        }
    }

    @Test
    void exampleCompilesAndCountsOnAThreeNodeCluster(@TempDir Path dir) throws Exception {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        Path source = Files.copy(EXAMPLE, dir.resolve("CounterExample.java"));
        int rc = javac.run(null, null, null, "-d", dir.toString(),
                "-cp", System.getProperty("java.class.path"), source.toString());
        assertThat(rc).as("javac exit code").isZero();

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            Method main = loader.loadClass("CounterExample").getMethod("main", String[].class);
            main.invoke(null, (Object) new String[0]);
        } finally {
            System.setOut(original);
        }
        assertThat(out.toString(StandardCharsets.UTF_8).lines().toList()).isEqualTo(List.of("counter = 5"));
    }
}
