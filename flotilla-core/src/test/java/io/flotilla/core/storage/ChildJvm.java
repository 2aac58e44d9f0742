package io.flotilla.core.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real child JVM running a {@code main} of this test tree. Its stdout goes to a file that the parent
 * tails (a pipe of a killed process races with the JDK's reaper), so nothing here ever blocks and
 * every wait has a deadline; its stderr goes to a file kept for failure messages.
 */
final class ChildJvm {
    private final Process process;
    private final Path stdout;
    private final Path stderr;
    private long readUpTo;
    private final StringBuilder partialLine = new StringBuilder();

    private ChildJvm(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** Starts {@code mainClass} with the test classpath; its output files go to {@code workDir}. */
    static ChildJvm start(Class<?> mainClass, Path workDir, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-Xmx256m", "-XX:TieredStopAtLevel=1",
                mainClass.getName()));
        command.addAll(List.of(args));
        Files.createDirectories(workDir);
        Path out = Files.createTempFile(workDir, mainClass.getSimpleName(), ".out");
        Path err = Files.createTempFile(workDir, mainClass.getSimpleName(), ".err");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        return new ChildJvm(p, out, err);
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The complete lines printed since the last call; never blocks. */
    List<String> newLines() throws IOException {
        try (FileChannel ch = FileChannel.open(stdout, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > readUpTo) {
                ByteBuffer buf = ByteBuffer.allocate((int) (size - readUpTo));
                if (!FileSync.readFully(ch, buf, readUpTo)) {
                    throw new IOException("output file " + stdout + " shrank");
                }
                readUpTo = size;
                partialLine.append(new String(buf.array(), StandardCharsets.US_ASCII));
            }
        }
        List<String> lines = new ArrayList<>();
        int nl;
        while ((nl = partialLine.indexOf("\n")) >= 0) {
            lines.add(partialLine.substring(0, nl).trim());
            partialLine.delete(0, nl + 1);
        }
        return lines;
    }

    /** Waits up to {@code timeoutMillis} for the next line, polling; null if none came or the child died. */
    String awaitLine(long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            List<String> lines = newLines();
            if (!lines.isEmpty()) {
                return lines.get(0);
            }
            if (!process.isAlive()) {
                return null;
            }
            Thread.sleep(5);
        }
        return null;
    }

    /** SIGKILLs the child, waits (bounded) until it is gone and returns the complete lines it printed that were not read yet. */
    List<String> kill() throws IOException, InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("child " + pid() + " did not die within 30 s of SIGKILL");
        }
        return newLines();
    }

    String stderrText() {
        try {
            return Files.readString(stderr);
        } catch (IOException e) {
            return "(no stderr: " + e + ")";
        }
    }
}
