package io.flotilla.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code bin/flotilla-client} as an operator runs it, with {@code -o json}: one process per command
 * (or one {@code shell} for many), its exit status, standard output and error, and the JSON object
 * it printed.
 */
final class Cli {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Cli() {
    }

    /** One command's outcome. {@code json} is the last JSON object on standard output (null if none). */
    record Result(List<String> command, int exit, String stdout, String stderr, JsonNode json, long millis) {
        boolean ok() {
            return exit == 0;
        }

        /** Why the command failed: the JSON's {@code error} (with -o json errors go there), else standard error. */
        String error() {
            return json != null && json.hasNonNull("error") ? json.get("error").asText() : stderr.strip();
        }

        /** A member list's members: id to kind ("voter", "learner", "joining"). */
        java.util.SortedMap<Integer, String> kinds() {
            java.util.SortedMap<Integer, String> out = new java.util.TreeMap<>();
            if (json != null && json.has("members")) {
                json.get("members").forEach(m -> out.put(m.get("id").asInt(), m.get("kind").asText()));
            }
            return out;
        }

        /** A member list's removed ids. */
        java.util.SortedSet<Integer> removedIds() {
            java.util.SortedSet<Integer> out = new TreeSet<>();
            if (json != null && json.has("removed")) {
                json.get("removed").forEach(r -> out.add(r.asInt()));
            }
            return out;
        }

        /** The leader a member list names. */
        Optional<Integer> leader() {
            return json != null && json.hasNonNull("leader") && json.get("leader").asInt() > 0
                    ? Optional.of(json.get("leader").asInt()) : Optional.empty();
        }

        @Override
        public String toString() {
            return String.join(" ", command) + " -> exit " + exit + " in " + millis + " ms; stdout: " + stdout.strip()
                    + (stderr.isBlank() ? "" : "; stderr: " + stderr.strip());
        }
    }

    static Path script() {
        return Path.of("..", "bin", "flotilla-client").toAbsolutePath().normalize();
    }

    /** Runs {@code bin/flotilla-client -o json --cluster CLUSTER ARGS...}, killing it after {@code timeout}. */
    static Result run(String cluster, Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(script().toString(), "-o", "json", "--cluster", cluster));
        cmd.addAll(List.of(args));
        return exec(cmd, null, timeout);
    }

    /** Runs a command line with {@code stdin} (if not null) as its standard input. */
    static Result exec(List<String> cmd, String stdin, Duration timeout) throws IOException, InterruptedException {
        long start = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("FLOTILLA_JAVA_OPTS", "-Xmx128m");
        Process p = pb.start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        try {
            if (stdin != null) {
                try (var in = p.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            } else {
                p.getOutputStream().close();
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError(String.join(" ", cmd) + " did not finish within " + timeout + "; stderr: " + err.getNow(""));
            }
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        String stdout = out.join();
        long millis = (System.nanoTime() - start) / 1_000_000;
        return new Result(cmd.subList(1, cmd.size()), p.exitValue(), stdout, err.join(), lastJson(stdout), millis);
    }

    /** Every JSON object printed one per line (a shell's output). */
    static List<JsonNode> jsonLines(String stdout) {
        List<JsonNode> out = new ArrayList<>();
        for (String line : stdout.split("\n")) {
            if (line.startsWith("{")) {
                try {
                    out.add(JSON.readTree(line));
                } catch (IOException e) {
                    throw new AssertionError("not JSON: " + line, e);
                }
            }
        }
        return out;
    }

    private static JsonNode lastJson(String stdout) {
        List<JsonNode> all;
        try {
            all = jsonLines(stdout);
        } catch (AssertionError notJson) {
            return null;
        }
        if (all.isEmpty()) {
            String s = stdout.strip();
            if (s.startsWith("{")) { // pretty-printed over several lines
                try {
                    return JSON.readTree(s);
                } catch (IOException e) {
                    return null;
                }
            }
            return null;
        }
        return all.get(all.size() - 1);
    }

    private static String read(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
