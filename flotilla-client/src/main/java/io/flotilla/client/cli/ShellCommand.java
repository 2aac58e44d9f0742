package io.flotilla.client.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
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
        description = {"Runs commands (get, set, delete, cas, status, member, with their options), one per line, over one connection: "
                + "at a prompt on a terminal, else from standard input, so a script can pipe many commands through one process.",
                "Quote words with ' or \"; lines starting with # are comments; 'exit' or end of input stops. "
                        + "Options given to shell (--cluster, --timeout, --output, --verbose) apply to every line.",
                "Exits with the exit code of the last command."})
final class ShellCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--stop-on-error", description = "Stop at the first command that exits with 3 (unavailable), 4 (invalid) or 5 (outcome unknown).")
    boolean stopOnError;

    private static final String HELP = "commands: get KEY [--stale] | set KEY VALUE | delete KEY | cas KEY EXPECTED NEW | "
            + "cas --expect-absent KEY NEW | status | member list|add|promote|remove | exit;  COMMAND --help for more";

    @Override
    public Integer call() throws IOException {
        FlotillaCli root = FlotillaCli.of(spec);
        FlotillaCli.Streams streams = root.streams();
        FlotillaCli lineRoot = root.forShellLine();
        CommandLine lines = FlotillaCli.commandLine(lineRoot, false, null);
        boolean json = root.output == Reply.Format.JSON;
        // In JSON, what picocli prints itself (a command's --help) is captured and wrapped, so that
        // every command line gives exactly one JSON line.
        StringWriter captured = new StringWriter();
        if (json) {
            lines.setOut(new PrintWriter(captured, true));
        }
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
                if (json) {
                    new Reply("help").field("help", HELP).print(root.output, false, out, streams.err());
                } else {
                    out.println(HELP);
                    out.flush();
                }
                last = ExitCode.OK;
                continue;
            }
            last = runLine(lineRoot, lines, trimmed, captured);
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

    /** Runs one command line; every refusal goes through {@link FlotillaCli#refuse} (one line, or one JSON object). */
    private static int runLine(FlotillaCli lineRoot, CommandLine lines, String line, StringWriter captured) {
        List<String> words;
        try {
            words = Tokenizer.split(line);
        } catch (IllegalArgumentException e) {
            return lineRoot.refuse("shell", e.getMessage());
        }
        String command = words.get(0);
        String invalid = FlotillaCli.invalidText(words.toArray(String[]::new)); // input that was not UTF-8
        if (invalid != null) {
            return lineRoot.refuse(command, invalid);
        }
        if (!lines.getSubcommands().containsKey(command)) {
            return lineRoot.refuse(command, "unknown command '" + command + "' (try get, set, delete, cas, status, member, help, exit)");
        }
        captured.getBuffer().setLength(0);
        int exit = lines.execute(words.toArray(String[]::new));
        if (captured.getBuffer().length() > 0) {
            new Reply(command).field("help", captured.toString().stripTrailing())
                    .print(Reply.Format.JSON, false, lineRoot.streams().out(), lineRoot.streams().err());
        }
        return exit;
    }
}
