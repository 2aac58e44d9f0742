package io.flotilla.client.cli;

import io.flotilla.client.BackupFile;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code snapshot save FILE}: a backup of the whole store, from the leader; {@code snapshot verify
 * FILE}: checks one. Both print one line: index, term, bytes, checksum and path.
 */
@Command(name = "snapshot", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "save | verify",
        description = {"Backs the cluster up to a file, and checks such a file.",
            "Restore with: bin/flotilla-server --restore FILE (on every founder of a new cluster)."},
        subcommands = {SnapshotCommand.Save.class, SnapshotCommand.Verify.class})
final class SnapshotCommand {

    @Command(name = "save", mixinStandardHelpOptions = true,
            description = {"Saves a consistent snapshot of the whole store to FILE: the leader takes one holding every write "
                    + "acknowledged before the command started, and it is written to FILE.tmp, its checksum verified, synced, "
                    + "and renamed to FILE (an existing FILE is replaced only by a complete backup).",
                "Prints one line: index=N term=N bytes=N checksum=crc32c:... path=FILE.",
                "--timeout bounds taking the snapshot and reading each 1 MiB of it, not the whole transfer; a large store may "
                        + "need --timeout 1m. Exits with 3 if the cluster could not provide it, 4 if FILE cannot be written."})
    static final class Save implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "FILE")
        Path file;

        @Override
        public Integer call() {
            FlotillaCli root = FlotillaCli.of(spec);
            String command = "snapshot save";
            return root.execute(command, client -> {
                try {
                    BackupFile.Saved saved = client.saveSnapshot(file);
                    return describe(new Reply(command), saved.header(), saved.path(), saved.fileBytes());
                } catch (IOException e) {
                    return new Reply(command).field("path", file.toString())
                            .failure("invalid", ExitCode.INVALID, new IOException("snapshot save: cannot write " + file + ": "
                                    + describe(e), e));
                }
            });
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Checks a backup FILE: its format, length and checksum, as bin/flotilla-server --restore does.",
                "Prints the same line as save; exits with 4 if FILE is not an intact backup."})
    static final class Verify implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "FILE")
        Path file;

        @Override
        public Integer call() {
            FlotillaCli root = FlotillaCli.of(spec);
            String command = "snapshot verify";
            Reply reply;
            try {
                Path path = file.toAbsolutePath().normalize();
                BackupFile.Header header = BackupFile.verify(path);
                reply = describe(new Reply(command), header, path, header.bytes() + header.dataLength());
            } catch (IOException e) {
                reply = new Reply(command).field("path", file.toString()).failure("invalid", ExitCode.INVALID,
                        new IOException(e instanceof BackupFile.InvalidBackupException ? e.getMessage()
                                : "cannot read " + file + ": " + describe(e), e));
            }
            reply.print(root.output, root.verbose, root.streams().out(), root.streams().err());
            return reply.exitCode();
        }
    }

    /** The one line, and the JSON fields, that say what a backup holds. */
    static Reply describe(Reply reply, BackupFile.Header h, Path path, long fileBytes) {
        return reply.field("path", path.toString()).field("index", h.index()).field("term", h.term()).field("bytes", fileBytes)
                .field("dataBytes", h.dataLength()).field("checksum", h.checksum()).field("clusterId", h.clusterId())
                .field("node", h.nodeId()).field("created", java.time.Instant.ofEpochMilli(h.createdMillis()).toString())
                .line("index=" + h.index() + " term=" + h.term() + " bytes=" + fileBytes + " checksum=" + h.checksum() + " path=" + path);
    }

    private static String describe(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory: " + e.getMessage();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
