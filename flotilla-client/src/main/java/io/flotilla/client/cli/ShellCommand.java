package io.flotilla.client.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "shell", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs commands (get, set, delete, cas, status, with their options), one per line, over one connection: "
                + "at a prompt on a terminal, else from standard input, so a script can pipe many commands through one process.",
                "Quote words with ' or \"; lines starting with # are comments; 'exit' or end of input stops. "
                        + "Options given to shell (--cluster, --timeout, --output, --verbose) apply to every line.",
                "Exits with the exit code of the last command."})
final class ShellCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--stop-on-error", description = "Stop at the first command that exits with 3 (unavailable), 4 (invalid) or 5 (outcome unknown).")
    boolean stopOnError;

    @Override
    public Integer call() throws IOException {
        FlotillaCli root = FlotillaCli.of(spec);
        FlotillaCli.Streams streams = root.streams();
        CommandLine lines = FlotillaCli.commandLine(root.forShellLine(), false, null);
        PrintWriter out = streams.out();
        BufferedReader in = new BufferedReader(new InputStreamReader(streams.in(), StandardCharsets.UTF_8));
        boolean interactive = streams.interactive();
        int last = ExitCode.OK;
        while (true) {
            if (interactive) {
                out.print("flotilla> ");
                out.flush();
            }
            String line = in.readLine();
            if (line == null) {
                break;
            }
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            String word = trimmed.toLowerCase(Locale.ROOT);
            if (word.equals("exit") || word.equals("quit")) {
                break;
            }
            if (word.equals("help") || word.equals("?")) {
                out.println("commands: get KEY [--stale] | set KEY VALUE | delete KEY | cas KEY EXPECTED NEW | "
                        + "cas --expect-absent KEY NEW | status | exit;  COMMAND --help for more");
                out.flush();
                continue;
            }
            List<String> words;
            try {
                words = Tokenizer.split(trimmed);
            } catch (IllegalArgumentException e) {
                streams.err().println("flotilla-client: " + e.getMessage());
                streams.err().flush();
                last = ExitCode.INVALID;
                if (stopOnError) {
                    break;
                }
                continue;
            }
            if (!lines.getSubcommands().containsKey(words.get(0))) {
                streams.err().println("flotilla-client: unknown command '" + words.get(0)
                        + "' (try get, set, delete, cas, status, help, exit)");
                streams.err().flush();
                last = ExitCode.INVALID;
            } else {
                last = lines.execute(words.toArray(String[]::new));
            }
            if (stopOnError && (last == ExitCode.UNAVAILABLE || last == ExitCode.INVALID || last == ExitCode.UNKNOWN_OUTCOME)) {
                break;
            }
        }
        if (interactive) {
            out.println();
        }
        out.flush();
        return last;
    }
}
