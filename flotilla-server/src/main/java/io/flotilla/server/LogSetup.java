package io.flotilla.server;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.util.FileSize;
import org.slf4j.LoggerFactory;

/**
 * Applies {@code --log-format} and {@code --log-file} to logback, before the node logs anything:
 * with JSON or a file, the root logger's appenders (logback.xml's console) are replaced by a console
 * appender in the chosen format and, with a file, a rolling file appender in the same format. The
 * level stays logback.xml's ({@code FLOTILLA_LOG_LEVEL}, default INFO).
 */
final class LogSetup {
    /** ISO-8601 date and time with the zone offset (+00:00 rather than Z, so every line has the same shape); as in logback.xml. */
    static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSxxx} %-5level %logger{0} - %msg%n";
    /** Rolled files: FILE.2025-06-30.0.gz, FILE.2025-06-30.1.gz, ... */
    static final String ROLLED_SUFFIX = ".%d{yyyy-MM-dd}.%i.gz";

    /**
     * How the log file rolls: every day and at {@code maxFileSize}; rolled files are kept {@code maxHistoryDays}
     * days and {@code totalSizeCap} bytes at most, the oldest removed first (what --log-file's help says).
     */
    record Rolling(FileSize maxFileSize, int maxHistoryDays, FileSize totalSizeCap) {
        static final Rolling DEFAULT = new Rolling(FileSize.valueOf("100MB"), 14, FileSize.valueOf("2GB"));
    }

    private LogSetup() {
    }

    /**
     * Applies the settings to the process's logback; a log file that cannot be opened is an
     * {@link IllegalArgumentException} with one line. The defaults (text, no file) leave logback.xml's console as it is.
     */
    static void apply(ServerCommand.LogSettings settings) {
        if (settings.json() || settings.file() != null) {
            apply((LoggerContext) LoggerFactory.getILoggerFactory(), settings, Rolling.DEFAULT);
        }
    }

    static void apply(LoggerContext context, ServerCommand.LogSettings settings, Rolling rolling) {
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        RollingFileAppender<ILoggingEvent> file = settings.file() == null ? null : file(context, settings, rolling);
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setName("console");
        start(context, console, encoder(context, settings.json()));
        root.detachAndStopAllAppenders();
        root.addAppender(console);
        if (file != null) {
            root.addAppender(file);
        }
    }

    private static RollingFileAppender<ILoggingEvent> file(LoggerContext context, ServerCommand.LogSettings settings, Rolling rolling) {
        String path = settings.file().toAbsolutePath().normalize().toString();
        RollingFileAppender<ILoggingEvent> file = new RollingFileAppender<>();
        file.setContext(context);
        file.setName("file");
        file.setFile(path);
        SizeAndTimeBasedRollingPolicy<ILoggingEvent> policy = new SizeAndTimeBasedRollingPolicy<>();
        policy.setContext(context);
        policy.setParent(file);
        policy.setFileNamePattern(path + ROLLED_SUFFIX);
        policy.setMaxFileSize(rolling.maxFileSize());
        policy.setMaxHistory(rolling.maxHistoryDays());
        policy.setTotalSizeCap(rolling.totalSizeCap());
        policy.setCleanHistoryOnStart(true); // a node that restarts often still removes what is too old
        policy.start();
        file.setRollingPolicy(policy);
        file.setTriggeringPolicy(policy);
        int before = context.getStatusManager().getCount();
        start(context, file, encoder(context, settings.json()));
        if (!file.isStarted()) {
            policy.stop();
            String why = context.getStatusManager().getCopyOfStatusList().stream().skip(before)
                    .filter(s -> s.getLevel() == Status.ERROR).map(LogSetup::reason).findFirst().orElse("logback could not open it");
            throw new IllegalArgumentException("cannot write the log file " + path + ": " + why);
        }
        return file;
    }

    private static String reason(Status s) {
        Throwable t = s.getThrowable();
        while (t != null && t.getCause() != null) {
            t = t.getCause();
        }
        return t != null && t.getMessage() != null ? t.getMessage() : s.getMessage();
    }

    private static void start(LoggerContext context, OutputStreamAppender<ILoggingEvent> appender, Encoder<ILoggingEvent> encoder) {
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.start();
    }

    private static Encoder<ILoggingEvent> encoder(LoggerContext context, boolean json) {
        if (json) {
            // One object per line: timestamp (epoch ms), level, threadName, loggerName, formattedMessage, throwable
            // (null, or the exception with its stack). The unformatted message and its arguments would only repeat it.
            JsonEncoder encoder = new JsonEncoder();
            encoder.setContext(context);
            encoder.setWithSequenceNumber(false);
            encoder.setWithNanoseconds(false);
            encoder.setWithContext(false);
            encoder.setWithMDC(false); // the node sets no MDC
            encoder.setWithMessage(false);
            encoder.setWithArguments(false);
            encoder.setWithFormattedMessage(true);
            encoder.start();
            return encoder;
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(TEXT_PATTERN);
        encoder.start();
        return encoder;
    }
}
