package io.flotilla.client.cli;

import io.flotilla.core.Bytes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "set", mixinStandardHelpOptions = true, sortOptions = false,
        customSynopsis = {"flotilla-client set [OPTIONS] KEY VALUE", "   or: flotilla-client set [OPTIONS] KEY -",
            "   or: flotilla-client set [OPTIONS] KEY --value-file FILE"},
        description = {"Sets KEY to VALUE; prints OK.", "VALUE - reads the value from standard input, --value-file from a "
                + "file; both take any bytes (binary-safe)."})
final class SetCommand implements Callable<Integer> {
    /** The cluster's default --max-value-bytes; the CLI does not yet learn the cluster's own limit. */
    static final int DEFAULT_MAX_VALUE_BYTES = 1 << 20;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "KEY")
    String key;

    @Parameters(index = "1", arity = "0..1", paramLabel = "VALUE", description = "The value, or - to read it from standard input.")
    String value;

    @Option(names = "--value-file", paramLabel = "FILE", description = "Read the value from FILE.")
    Path valueFile;

    @Option(names = "--max-value-bytes", paramLabel = "N", defaultValue = "" + DEFAULT_MAX_VALUE_BYTES,
            description = "Refuse a value from standard input or a file longer than this, before reading it all "
                    + "(default: ${DEFAULT-VALUE}, the cluster's default limit).")
    int maxValueBytes;

    @Override
    public Integer call() {
        FlotillaCli root = FlotillaCli.of(spec);
        if ((value == null) == (valueFile == null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), value == null
                    ? "set takes KEY VALUE, KEY - or KEY --value-file FILE" : "set takes a VALUE or --value-file, not both");
        }
        Bytes bytes;
        try {
            bytes = valueFile != null ? fromFile(valueFile) : value.equals("-") ? fromStandardInput(root) : FlotillaCli.bytes(value);
        } catch (IllegalArgumentException e) {
            return root.refuse("set", e.getMessage());
        }
        return root.execute("set", client -> {
            client.set(FlotillaCli.bytes(key), bytes);
            return new Reply("set").field("key", key).line("OK");
        });
    }

    private Bytes fromStandardInput(FlotillaCli root) {
        if (root.inShell()) {
            throw new IllegalArgumentException("set KEY - cannot read a value in the shell: its standard input is the commands; "
                    + "use --value-file FILE");
        }
        try {
            return bounded(root.streams().in(), "the value on standard input");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the value from standard input: " + e.getMessage());
        }
    }

    private Bytes fromFile(Path file) {
        try {
            if (Files.isDirectory(file)) {
                throw new IllegalArgumentException("--value-file " + file + " is a directory");
            }
            if (Files.isRegularFile(file) && Files.size(file) > maxValueBytes) { // refused without reading it
                throw tooLong("--value-file " + file + " (" + Files.size(file) + " bytes)");
            }
            try (InputStream in = Files.newInputStream(file)) {
                return bounded(in, "--value-file " + file); // a pipe or device has no size to check first
            }
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--value-file " + file + " does not exist");
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException("--value-file " + file + " is not readable by this user");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read --value-file " + file + ": " + e.getMessage());
        }
    }

    /** Reads at most one byte more than the limit, so an endless input is refused without being held. */
    private Bytes bounded(InputStream in, String what) throws IOException {
        byte[] data = in.readNBytes(maxValueBytes + 1);
        if (data.length > maxValueBytes) {
            throw tooLong(what);
        }
        return Bytes.wrap(data);
    }

    private IllegalArgumentException tooLong(String what) {
        return new IllegalArgumentException(what + " is longer than the limit of " + maxValueBytes + " bytes (--max-value-bytes)");
    }
}
