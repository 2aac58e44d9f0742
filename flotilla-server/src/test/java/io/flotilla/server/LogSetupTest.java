package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.util.FileSize;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** --log-format and --log-file: each test configures a logback context of its own, never the JVM's. */
class LogSetupTest {
    @TempDir
    Path dir;
    private final LoggerContext context = new LoggerContext();
    private final ObjectMapper json = new ObjectMapper();

    @BeforeEach
    void start() {
        context.setMDCAdapter(new LogbackMDCAdapter()); // as the JVM's own context has
        context.start();
    }

    @AfterEach
    void stop() {
        context.stop();
    }

    private Logger logger() {
        return context.getLogger(FlotillaServer.class);
    }

    /** What the console appender writes while {@code body} runs (it writes to whatever System.out is then). */
    private static String console(Runnable body) {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setOut(original);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void jsonLinesParseAndCarryTimestampLevelLoggerAndMessage() throws Exception {
        Path file = dir.resolve("node.log");
        long before = System.currentTimeMillis();
        String printed = console(() -> {
            LogSetup.apply(context, new ServerCommand.LogSettings(file, true), LogSetup.Rolling.DEFAULT);
            logger().info("node {} is leader in term {}", 1, 7);
            logger().warn("a \"quoted\" line\nwith a newline");
            logger().error("node 1 failed", new IllegalStateException("disk gone"));
        });
        context.stop(); // flushes and closes the file
        List<String> fromFile = Files.readAllLines(file);
        List<String> fromConsole = printed.lines().toList();
        assertThat(fromConsole).as("the console has the same lines").isEqualTo(fromFile);
        assertThat(fromFile).hasSize(3);
        List<JsonNode> lines = new ArrayList<>();
        for (String line : fromFile) {
            lines.add(json.readTree(line)); // one object per line
        }
        JsonNode first = lines.get(0);
        assertThat(first.get("timestamp").asLong()).isBetween(before, System.currentTimeMillis());
        assertThat(first.get("level").asText()).isEqualTo("INFO");
        assertThat(first.get("loggerName").asText()).isEqualTo(FlotillaServer.class.getName());
        assertThat(first.get("formattedMessage").asText()).isEqualTo("node 1 is leader in term 7");
        assertThat(lines.get(1).get("formattedMessage").asText()).isEqualTo("a \"quoted\" line\nwith a newline");
        assertThat(lines.get(2).get("level").asText()).isEqualTo("ERROR");
        assertThat(lines.get(2).get("throwable").toString()).contains("IllegalStateException", "disk gone");
    }

    @Test
    void theTextFormatHasTheDateTimeAndZoneOffset() throws Exception {
        Path file = dir.resolve("node.log");
        String printed = console(() -> {
            LogSetup.apply(context, new ServerCommand.LogSettings(file, false), LogSetup.Rolling.DEFAULT);
            logger().info("node 1 serving on 127.0.0.1:5001");
        });
        context.stop();
        String line = Files.readString(file).strip();
        assertThat(printed.strip()).isEqualTo(line);
        Matcher m = Pattern.compile("^(\\S+) INFO  FlotillaServer - node 1 serving on 127\\.0\\.0\\.1:5001$").matcher(line);
        assertThat(m.matches()).as(line).isTrue();
        // ISO-8601 with milliseconds and a numeric offset, e.g. 2025-06-30T14:02:11.042+02:00
        assertThat(m.group(1)).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}[+-]\\d{2}:\\d{2}");
        OffsetDateTime at = OffsetDateTime.parse(m.group(1), DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        assertThat(at.toInstant().toEpochMilli()).isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(60_000L));
    }

    @Test
    void logbackXmlUsesTheSameTextPattern() throws IOException {
        try (InputStream in = LogSetup.class.getResourceAsStream("/logback.xml")) {
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(xml).contains("<pattern>" + LogSetup.TEXT_PATTERN + "</pattern>").contains("${FLOTILLA_LOG_LEVEL:-INFO}");
        }
    }

    @Test
    void theLogFileIsCreatedWithItsDirectoryAndRollsAsTheHelpSays() throws Exception {
        Path file = dir.resolve("logs/sub/node-1.log");
        console(() -> LogSetup.apply(context, new ServerCommand.LogSettings(file, false), LogSetup.Rolling.DEFAULT));
        assertThat(file).exists();
        Appender<?> appender = context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("file");
        assertThat(appender).isInstanceOf(RollingFileAppender.class);
        SizeAndTimeBasedRollingPolicy<?> policy = (SizeAndTimeBasedRollingPolicy<?>) ((RollingFileAppender<?>) appender).getRollingPolicy();
        assertThat(policy.getFileNamePattern()).isEqualTo(file.toAbsolutePath() + ".%d{yyyy-MM-dd}.%i.gz"); // daily, then numbered
        assertThat(policy.getMaxHistory()).isEqualTo(14);
        assertThat(policy.isCleanHistoryOnStart()).isTrue();
        assertThat(LogSetup.Rolling.DEFAULT.maxFileSize().getSize()).isEqualTo(100L << 20);
        assertThat(LogSetup.Rolling.DEFAULT.maxHistoryDays()).isEqualTo(14);
        assertThat(LogSetup.Rolling.DEFAULT.totalSizeCap().getSize()).isEqualTo(2L << 30);
        String help = new CommandLine(new ServerCommand()).getUsageMessage(CommandLine.Help.Ansi.OFF).replaceAll("\\s+", " ");
        assertThat(help).contains("--log-file=FILE Also write the log to FILE, rolled daily and at 100 MiB into FILE.<date>.<n>.gz; "
                + "rolled files are kept 14 days and 2 GiB at most");
    }

    @Test
    void theFileRollsAtItsSizeIntoNumberedCompressedFiles() throws Exception {
        Path file = dir.resolve("node.log");
        LogSetup.Rolling small = new LogSetup.Rolling(FileSize.valueOf("4KB"), 14, FileSize.valueOf("1MB"));
        console(() -> {
            LogSetup.apply(context, new ServerCommand.LogSettings(file, false), small);
            for (int i = 0; i < 200; i++) {
                logger().info("line {} of a log that grows past its size: {}", i, "x".repeat(60));
            }
        });
        context.stop(); // waits for the compression of rolled files
        List<String> rolled;
        try (Stream<Path> files = Files.list(dir)) {
            rolled = files.map(p -> p.getFileName().toString()).filter(n -> !n.equals("node.log")).sorted().toList();
        }
        assertThat(rolled).isNotEmpty().allMatch(n -> n.matches("node\\.log\\.\\d{4}-\\d{2}-\\d{2}\\.\\d+\\.gz"), "FILE.<date>.<n>.gz");
        assertThat(Files.size(file)).isLessThanOrEqualTo(8 << 10);
    }

    @Test
    void aLogFileThatCannotBeWrittenIsOneLineAndLeavesTheConsoleAsItWas() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("plain-file"), "x");
        Path file = notADirectory.resolve("node.log");
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> LogSetup.apply(context, new ServerCommand.LogSettings(file, true), LogSetup.Rolling.DEFAULT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("cannot write the log file " + file.toAbsolutePath())
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(root.iteratorForAppenders().hasNext()).as("nothing was attached").isFalse();
    }

    @Test
    void aNodeWithAnUnwritableLogFileIsRefusedWithOneLine() throws Exception {
        Path file = Files.writeString(dir.resolve("plain-file"), "x").resolve("node.log");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream original = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = ServerCommand.commandLine().execute("--id", "1", "--peers", "1=127.0.0.1:" + TestPorts.next(),
                    "--data-dir", dir.resolve("data").toString(), "--log-file", file.toString());
        } finally {
            System.setErr(original);
        }
        assertThat(exit).isEqualTo(ServerCommand.USAGE);
        assertThat(err.toString(StandardCharsets.UTF_8).strip()).startsWith("flotilla-server: cannot write the log file " + file.toAbsolutePath())
                .doesNotContain("\n");
        assertThat(dir.resolve("data")).as("refused before the data directory is created").doesNotExist();
    }
}
