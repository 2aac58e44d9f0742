package io.flotilla.client.cli;

import io.flotilla.client.ClientOptions;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.bench.Bench;
import io.flotilla.client.bench.BenchConfig;
import io.flotilla.client.bench.BenchResult;
import io.flotilla.client.bench.Workload;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Drives the cluster through the client library and reports throughput and latency percentiles "
                + "(p50, p90, p99, p99.9, max), and the leader changes during the measured part (new terms, from the nodes' "
                + "status asked before, after and about once a second). A progress line on standard error shows how it goes.",
                "If requests failed, exits with the code of the most common failure: 3 unavailable, 4 invalid "
                        + "(e.g. every value over the cluster's limit), 5 outcome unknown."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** How long the measured part runs: a number of requests or a time, not both. */
    static final class Length {
        @Option(names = "--requests", paramLabel = "N", description = "Requests to measure (default: " + DEFAULT_REQUESTS + ").")
        Long requests;

        @Option(names = "--duration", paramLabel = "DURATION", converter = DurationConverter.class,
                description = "Measure for this long instead of a number of requests (e.g. 30s, 2m); calls in flight at the end still count.")
        Duration duration;
    }

    static final long DEFAULT_REQUESTS = 10_000;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Length length;

    @Option(names = "--clients", paramLabel = "N", description = "Requests in flight at a time (default: ${DEFAULT-VALUE}).", defaultValue = "16")
    int clients;

    @Option(names = "--workload", paramLabel = "write|read|mixed[:R]",
            description = "write (sets), read (gets) or mixed, a fraction R of gets (default: write; mixed alone is mixed:0.5).",
            defaultValue = "write")
    String workload;

    @Option(names = "--keys", paramLabel = "N", description = "Size of the key space (default: ${DEFAULT-VALUE}).", defaultValue = "10000")
    int keys;

    @Option(names = "--key-size", paramLabel = "BYTES", description = "Key length: zero-padded numbers (default: ${DEFAULT-VALUE}).", defaultValue = "16")
    int keySize;

    @Option(names = "--value-size", paramLabel = "BYTES", description = "Value length (default: ${DEFAULT-VALUE}).", defaultValue = "128")
    int valueSize;

    @Option(names = "--stale", description = "Reads are local (stale) reads instead of linearizable ones.")
    boolean stale;

    @Option(names = "--warmup", paramLabel = "N", description = "Requests to run first, unmeasured (default: ${DEFAULT-VALUE}).", defaultValue = "0")
    long warmup;

    @Override
    public Integer call() throws InterruptedException {
        FlotillaCli root = FlotillaCli.of(spec);
        BenchConfig config;
        ClientOptions options;
        try {
            Duration duration = length == null ? null : length.duration;
            long requests = duration != null ? 0 : length == null || length.requests == null ? DEFAULT_REQUESTS : length.requests;
            config = new BenchConfig(requests, duration, warmup, clients, keys, keySize, valueSize, Workload.parse(workload), stale);
            options = root.clientOptions();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        options = options.withMaxInFlight(Math.max(options.maxInFlight(), clients));
        PrintWriter err = root.streams().err();
        boolean json = root.output == Reply.Format.JSON;
        if (!json) {
            root.streams().out().printf("bench: %s, %s (+%d warmup), %d in flight, %d keys of %d bytes, %d-byte values%s%n",
                    config.workload(), config.length(), warmup, clients, keys, keySize, valueSize,
                    config.workload().readFraction() > 0 ? (stale ? ", stale reads" : ", linearizable reads") : "");
            root.streams().out().flush();
        }
        FlotillaClient created;
        try {
            created = FlotillaClient.create(options); // reads the TLS files
        } catch (IllegalArgumentException e) {
            return root.refuse("bench", e.getMessage());
        }
        BenchResult result;
        try (FlotillaClient client = created) {
            result = new Bench(client, config).run(err, root.streams().interactive());
        }
        Reply reply = new Reply("bench");
        result.json().forEach(reply::field);
        reply.line(result.text());
        BenchResult.Failure dominant = result.dominantFailure();
        if (dominant != null) { // the exit code of the most common failure, as one command would have exited
            String failed = "bench: " + result.errors() + " of " + (result.completed() + result.errors()) + " requests failed; most ";
            String first = " (first error: " + result.firstError() + ")";
            switch (dominant) {
                case UNAVAILABLE -> reply.outcome("unavailable", ExitCode.UNAVAILABLE, failed + "were unavailable" + first);
                case INVALID -> reply.outcome("invalid", ExitCode.INVALID, failed + "were refused as invalid" + first);
                case UNKNOWN_OUTCOME -> reply.outcome("unknown_outcome", ExitCode.UNKNOWN_OUTCOME, failed + "had an unknown outcome" + first);
                case OTHER -> reply.outcome("internal", ExitCode.INTERNAL, failed + "failed with an internal error" + first);
                default -> throw new AssertionError(dominant);
            }
        }
        reply.print(root.output, root.verbose, root.streams().out(), err);
        return reply.exitCode();
    }
}
