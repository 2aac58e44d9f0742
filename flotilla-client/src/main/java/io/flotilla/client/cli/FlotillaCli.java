package io.flotilla.client.cli;

import io.flotilla.client.ClientOptions;
import io.flotilla.client.ClientTls;
import io.flotilla.client.ClusterUnavailableException;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.FlotillaException;
import io.flotilla.client.RequestRejectedException;
import io.flotilla.core.Bytes;
import java.io.BufferedWriter;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code flotilla-client}: the command line. Holds the options every command shares and the one
 * client they use; the shell keeps that client across its lines.
 */
@Command(name = "flotilla-client", mixinStandardHelpOptions = true, version = "flotilla-client " + FlotillaCli.VERSION,
        description = "Reads and writes a Flotilla key-value cluster. Keys and values are UTF-8 text.",
        synopsisSubcommandLabel = "COMMAND", sortOptions = false,
        footerHeading = "%nThe node list comes from --cluster, else the environment variable FLOTILLA_CLUSTER, else "
                + ClientOptions.LOCAL_CLUSTER + ". With --tls-ca (or FLOTILLA_TLS_CA) the client uses TLS; a TLS "
                + "failure is reported like an unreachable node (exit 3), a missing or invalid TLS file as invalid input (exit 4)."
                + "%n%nExit codes:%n",
        footer = {
            "  0  success",
            "  1  key not found (get, delete)",
            "  2  CAS mismatch: nothing was written",
            "  3  cluster unavailable within --timeout; a write was NOT applied",
            "  4  invalid input: bad usage or arguments, or refused by the cluster",
            "  5  outcome unknown: a write's answer was lost; it MAY have been applied",
            " 70  internal error (a bug; --verbose shows the stack trace)"})
public final class FlotillaCli {
    static final String VERSION = "0.1.0";
    static final String TLS_CA_ENV = "FLOTILLA_TLS_CA";
    static final String TLS_CERT_ENV = "FLOTILLA_TLS_CERT";
    static final String TLS_KEY_ENV = "FLOTILLA_TLS_KEY";

    @Option(names = "--cluster", scope = ScopeType.INHERIT, paramLabel = "HOST:PORT,...",
            description = "The nodes to try (default: $FLOTILLA_CLUSTER, else " + ClientOptions.LOCAL_CLUSTER + ").")
    String cluster;

    @Option(names = "--timeout", scope = ScopeType.INHERIT, paramLabel = "DURATION", converter = DurationConverter.class,
            description = "How long one command may take, retries included: 500ms, 10s, 1m (default: 10s).")
    Duration timeout = Duration.ofSeconds(10);

    @Option(names = "--attempt-timeout", scope = ScopeType.INHERIT, paramLabel = "DURATION", converter = DurationConverter.class,
            description = "How long one attempt waits for a node's answer before trying another (default: 1s, at most --timeout).")
    Duration attemptTimeout;

    @Option(names = "--tls-ca", scope = ScopeType.INHERIT, paramLabel = "FILE", defaultValue = "${env:" + TLS_CA_ENV + "}",
            description = "Connect with TLS, trusting only this CA certificate (PEM) and only node certificates "
                    + "(default: $" + TLS_CA_ENV + "; without it, plaintext).")
    java.nio.file.Path tlsCa;

    @Option(names = "--tls-cert", scope = ScopeType.INHERIT, paramLabel = "FILE", defaultValue = "${env:" + TLS_CERT_ENV + "}",
            description = "This client's certificate (PEM), for nodes started with --tls-client-auth (default: $" + TLS_CERT_ENV + ").")
    java.nio.file.Path tlsCert;

    @Option(names = "--tls-key", scope = ScopeType.INHERIT, paramLabel = "FILE", defaultValue = "${env:" + TLS_KEY_ENV + "}",
            description = "The private key of --tls-cert (PEM, PKCS#8) (default: $" + TLS_KEY_ENV + ").")
    java.nio.file.Path tlsKey;

    @Option(names = {"-o", "--output"}, scope = ScopeType.INHERIT, paramLabel = "text|json",
            description = "text (default), or json: one JSON object per command on standard output.")
    Reply.Format output = Reply.Format.TEXT;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Show stack traces of errors, and timings.")
    boolean verbose;

    private final Streams streams;
    private final Clients clients;
    private boolean inShell;

    /** Standard input, output and error of one run. */
    record Streams(InputStream in, PrintWriter out, PrintWriter err, boolean interactive) {
    }

    FlotillaCli(Streams streams, Clients clients) {
        this.streams = streams;
        this.clients = clients;
    }

    /** Runs one command line and answers its exit code; everything goes to the given streams. */
    public static int run(String[] args, InputStream in, OutputStream out, OutputStream err) {
        Streams streams = new Streams(in, writer(out), writer(err), false);
        return run(args, streams);
    }

    static int run(String[] args, Streams streams) {
        String invalid = invalidText(args);
        if (invalid != null) {
            streams.err().println("flotilla-client: " + invalid);
            streams.err().flush();
            return ExitCode.INVALID;
        }
        try (Clients clients = new Clients()) {
            FlotillaCli root = new FlotillaCli(streams, clients);
            return commandLine(root, true, invokedCommand(args)).execute(args);
        } finally {
            streams.out().flush();
            streams.err().flush();
        }
    }

    public static void main(String[] args) {
        quietNetty();
        boolean interactive = System.console() != null;
        Streams streams = new Streams(System.in, writer(new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false)),
                writer(System.err), interactive);
        System.exit(run(args, streams));
    }

    /**
     * Java decodes arguments with the platform's charset and turns bytes that are not valid in it into
     * U+FFFD: such an argument would be stored changed, so it is refused (null if all are valid).
     */
    static String invalidText(String... words) {
        for (String word : words) {
            if (word.indexOf('\uFFFD') >= 0) {
                String charset = System.getProperty("sun.jnu.encoding", java.nio.charset.Charset.defaultCharset().name());
                return "'" + word + "' is not valid text in this terminal's character set (" + charset
                        + "); refused rather than stored with replacement characters (\uFFFD)";
            }
        }
        return null;
    }

    /** Netty logs through JDK logging (nothing below WARN) and registers no JFR events, both of which cost startup time. */
    static void quietNetty() {
        if (System.getProperty("io.netty.jfr.enabled") == null) {
            System.setProperty("io.netty.jfr.enabled", "false");
        }
        io.netty.util.internal.logging.InternalLoggerFactory.setDefaultFactory(
                io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
    }

    private static PrintWriter writer(OutputStream stream) {
        return new PrintWriter(new BufferedWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), 1 << 14), false);
    }

    /** The subcommands, in the order help lists them. */
    private static final java.util.Map<String, java.util.function.Supplier<Object>> COMMANDS = new java.util.LinkedHashMap<>();

    static {
        COMMANDS.put("get", GetCommand::new);
        COMMANDS.put("set", SetCommand::new);
        COMMANDS.put("delete", DeleteCommand::new);
        COMMANDS.put("cas", CasCommand::new);
        COMMANDS.put("status", StatusCommand::new);
        COMMANDS.put("member", MemberCommand::new);
        COMMANDS.put("snapshot", SnapshotCommand::new);
        COMMANDS.put("shell", ShellCommand::new);
        COMMANDS.put("bench", BenchCommand::new);
    }

    /**
     * The subcommand these arguments run, if they clearly run one (and ask for no top-level help):
     * then only it is set up, which saves picocli's reflection over the others at startup.
     */
    static String invokedCommand(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--cluster") || a.equals("--timeout") || a.equals("--attempt-timeout") || a.equals("-o")
                    || a.equals("--output") || a.equals("--tls-ca") || a.equals("--tls-cert") || a.equals("--tls-key")) {
                i++; // its value
            } else if (a.equals("-h") || a.equals("--help") || a.equals("-V") || a.equals("--version")) {
                return null;
            } else if (!a.startsWith("-")) {
                return COMMANDS.containsKey(a) ? a : null;
            }
        }
        return null;
    }

    /**
     * The command tree: just {@code only} if given, else every command; {@code full} adds shell and
     * bench, which a shell line does not offer.
     */
    static CommandLine commandLine(FlotillaCli root, boolean full, String only) {
        CommandLine cli = new CommandLine(root);
        COMMANDS.forEach((name, command) -> {
            boolean wanted = only == null ? full || !(name.equals("shell") || name.equals("bench")) : name.equals(only);
            if (wanted) {
                cli.addSubcommand(command.get());
            }
        });
        cli.setCaseInsensitiveEnumValuesAllowed(true)
                .setOut(root.streams.out())
                .setErr(root.streams.err())
                .setParameterExceptionHandler(FlotillaCli::usageError)
                .setExecutionExceptionHandler(FlotillaCli::internalError);
        return cli;
    }

    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        FlotillaCli root = (FlotillaCli) cmd.getCommandSpec().root().userObject();
        if (root.output == Reply.Format.JSON) { // one JSON object, as for every other outcome
            return root.refuse(cmd.getCommandSpec().name(), e.getMessage());
        }
        PrintWriter err = cmd.getErr();
        err.println("flotilla-client: " + e.getMessage());
        err.println("Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage.");
        err.flush();
        return ExitCode.INVALID;
    }

    private static int internalError(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        FlotillaCli root = (FlotillaCli) cmd.getCommandSpec().root().userObject();
        if (root.output == Reply.Format.JSON) {
            new Reply(cmd.getCommandSpec().name()).failure("internal", ExitCode.INTERNAL, new IllegalStateException("internal error: " + e, e))
                    .print(root.output, root.verbose, root.streams.out(), root.streams.err());
            return ExitCode.INTERNAL;
        }
        PrintWriter err = cmd.getErr();
        err.println("flotilla-client: internal error: " + e);
        if (root.verbose) {
            e.printStackTrace(err);
        } else {
            err.println("(run with --verbose for the stack trace)");
        }
        err.flush();
        return ExitCode.INTERNAL;
    }

    static FlotillaCli of(CommandSpec spec) {
        return (FlotillaCli) spec.root().userObject();
    }

    /** A root for the lines of a shell: the same streams and client, and this run's options as defaults. */
    FlotillaCli forShellLine() {
        FlotillaCli line = new FlotillaCli(streams, clients);
        line.cluster = cluster;
        line.timeout = timeout;
        line.attemptTimeout = attemptTimeout;
        line.output = output;
        line.verbose = verbose;
        line.tlsCa = tlsCa;
        line.tlsCert = tlsCert;
        line.tlsKey = tlsKey;
        line.inShell = true;
        return line;
    }

    Streams streams() {
        return streams;
    }

    /** Whether this runs one line of a shell, whose standard input carries the commands. */
    boolean inShell() {
        return inShell;
    }

    /** Refuses a command as invalid input (exit 4): one line on standard error, or one JSON object. */
    int refuse(String command, String message) {
        Reply reply = new Reply(command).failure("invalid", ExitCode.INVALID, new IllegalArgumentException(message));
        reply.print(output, false, streams.out(), streams.err());
        return reply.exitCode();
    }

    /** The client options these flags describe; an {@link IllegalArgumentException} says what is wrong. */
    ClientOptions clientOptions() {
        ClientOptions defaults;
        try {
            defaults = ClientOptions.defaults();
        } catch (IllegalArgumentException e) {
            if (cluster == null) {
                throw e;
            }
            defaults = ClientOptions.of(ClientOptions.LOCAL_CLUSTER); // FLOTILLA_CLUSTER is bad but --cluster overrides it
        }
        Duration attempt = attemptTimeout != null ? attemptTimeout : defaults.attemptTimeout();
        ClientOptions options = defaults.withDeadline(timeout)
                .withAttemptTimeout(timeout.compareTo(attempt) < 0 ? timeout : attempt)
                .withConnectTimeout(timeout.compareTo(defaults.connectTimeout()) < 0 ? timeout : defaults.connectTimeout());
        if (cluster != null) {
            try {
                options = options.withCluster(ClientOptions.parseCluster(cluster));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--cluster: " + e.getMessage());
            }
        }
        return options.withTls(tls());
    }

    /** The TLS files: --tls-ca turns TLS on; --tls-cert and --tls-key go together and need it. */
    private ClientTls tls() {
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new IllegalArgumentException(tlsCert == null ? "--tls-key needs --tls-cert (or $" + TLS_CERT_ENV + ")"
                    : "--tls-cert needs --tls-key (or $" + TLS_KEY_ENV + ")");
        }
        if (tlsCa == null && tlsCert != null) {
            throw new IllegalArgumentException("--tls-cert needs --tls-ca (or $" + TLS_CA_ENV + "), the CA that signed the nodes' certificates");
        }
        return new ClientTls(tlsCa, tlsCert, tlsKey);
    }

    /**
     * Runs one request through the shared client and prints its reply; failures of the cluster
     * become the documented exit codes.
     */
    int execute(String command, Function<FlotillaClient, Reply> body) {
        long start = System.nanoTime();
        Reply reply;
        try {
            reply = body.apply(clients.get(clientOptions()));
        } catch (ClusterUnavailableException e) {
            reply = new Reply(command).failure(e.mayHaveBeenApplied() ? "unknown_outcome" : "unavailable",
                    e.mayHaveBeenApplied() ? ExitCode.UNKNOWN_OUTCOME : ExitCode.UNAVAILABLE, e);
            reply.field("mayHaveBeenApplied", e.mayHaveBeenApplied());
        } catch (RequestRejectedException e) {
            reply = new Reply(command).failure(e.mayHaveBeenApplied() ? "unknown_outcome" : "invalid",
                    e.mayHaveBeenApplied() ? ExitCode.UNKNOWN_OUTCOME : ExitCode.INVALID, e);
            reply.field("mayHaveBeenApplied", e.mayHaveBeenApplied());
        } catch (FlotillaException e) {
            reply = new Reply(command).failure("unavailable", ExitCode.UNAVAILABLE, e);
        } catch (IllegalArgumentException e) {
            reply = new Reply(command).failure("invalid", ExitCode.INVALID, e);
        }
        reply.print(output, verbose, streams.out(), streams.err());
        if (verbose) {
            timing(start);
        }
        return reply.exitCode();
    }

    private void timing(long start) {
        long took = (System.nanoTime() - start) / 1_000_000;
        long sinceJvmStart = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
        streams.err().println("flotilla-client: answered in " + took + " ms, " + sinceJvmStart + " ms after the JVM started");
        streams.err().flush();
    }

    /** A key or value as given on the command line. */
    static Bytes bytes(String text) {
        return Bytes.utf8(text);
    }

    /** The client of a run, created on first use and kept while the options stay the same (the shell's lines). */
    static final class Clients implements AutoCloseable {
        private FlotillaClient client;
        private ClientOptions options;

        FlotillaClient get(ClientOptions wanted) {
            if (client == null || !wanted.equals(options)) {
                close();
                client = FlotillaClient.create(wanted);
                options = wanted;
            }
            return client;
        }

        @Override
        public void close() {
            if (client != null) {
                client.close();
                client = null;
            }
        }
    }
}
