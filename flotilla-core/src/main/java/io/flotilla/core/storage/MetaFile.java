package io.flotilla.core.storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The {@code meta} file: the directory's format version and the {@link Identity} it belongs to. Plain
 * text, so an operator can see at a glance whose directory this is; written once, atomically.
 */
final class MetaFile {
    static final String FILE_NAME = "meta";
    static final int FORMAT_VERSION = 1;

    private MetaFile() {
    }

    /**
     * Checks that the directory belongs to {@code expected}, first recording it if the directory is new.
     *
     * @param hasData whether the directory already holds a log or hard state (then a missing meta file is an error)
     */
    static void verifyOrCreate(Path dir, Identity expected, boolean hasData, boolean fsync) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            if (hasData) {
                throw new StorageException("data directory " + dir + " holds a log but no " + FILE_NAME
                        + " file, so whose it is cannot be checked; restore the file if this is the node's own directory, or "
                        + LogRecovery.ADVICE);
            }
            FileSync.writeAtomically(file, format(expected).getBytes(StandardCharsets.UTF_8), fsync);
            return;
        }
        Map<String, String> fields = parse(text);
        String format = fields.get("format");
        if (!String.valueOf(FORMAT_VERSION).equals(format)) {
            throw new StorageException("data directory " + dir + " has format version " + format + " in " + file
                    + ", this build reads version " + FORMAT_VERSION + "; run a matching Flotilla version");
        }
        Identity found;
        try {
            found = new Identity(fields.getOrDefault("cluster", ""), Integer.parseInt(fields.getOrDefault("node", "0")));
        } catch (IllegalArgumentException e) {
            throw new StorageException("unreadable " + file + " (" + e.getMessage() + "); restore it if this is the node's own"
                    + " directory, or " + LogRecovery.ADVICE, e);
        }
        if (!found.equals(expected)) {
            throw new StorageException("data directory " + dir + " belongs to " + found + ", not to " + expected
                    + " as configured; point this node at its own data directory");
        }
    }

    private static String format(Identity id) {
        return "# Flotilla data directory; do not edit.\n"
                + "format=" + FORMAT_VERSION + "\n"
                + "cluster=" + id.clusterId() + "\n"
                + "node=" + id.nodeId() + "\n";
    }

    private static Map<String, String> parse(String text) {
        Map<String, String> fields = new HashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (!line.startsWith("#") && eq > 0) {
                fields.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return fields;
    }
}
