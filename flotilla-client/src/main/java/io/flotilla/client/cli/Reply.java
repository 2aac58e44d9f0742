package io.flotilla.client.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one command has to say, in both forms: lines of text (results to standard output, problems
 * to standard error), and one JSON object on standard output with {@code command}, the command's
 * own fields, {@code result} and {@code exitCode}.
 */
final class Reply {
    private final String command;
    private final Map<String, Object> fields = new LinkedHashMap<>();
    private final List<String> out = new ArrayList<>();
    private final List<String> err = new ArrayList<>();
    private String result = "ok";
    private int exitCode = ExitCode.OK;
    private Throwable error;

    Reply(String command) {
        this.command = command;
    }

    Reply field(String name, Object value) {
        fields.put(name, value);
        return this;
    }

    /** A line of the text form's standard output. */
    Reply line(String text) {
        out.add(text);
        return this;
    }

    /** The outcome: {@code result} names it in JSON, {@code message} goes to standard error in text. */
    Reply outcome(String result, int exitCode, String message) {
        this.result = result;
        this.exitCode = exitCode;
        if (message != null) {
            err.add(message);
        }
        return this;
    }

    Reply failure(String result, int exitCode, Throwable error) {
        this.error = error;
        field("error", String.valueOf(error.getMessage()));
        return outcome(result, exitCode, error.getMessage());
    }

    /** The text lines printed on stdout (tests). */
    List<String> lines() {
        return List.copyOf(out);
    }

    int exitCode() {
        return exitCode;
    }

    void print(Format format, boolean verbose, PrintWriter stdout, PrintWriter stderr) {
        if (format == Format.JSON) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("command", command);
            json.putAll(fields);
            json.put("result", result);
            json.put("exitCode", exitCode);
            stdout.println(toJson(json));
        } else {
            out.forEach(stdout::println);
            err.forEach(line -> stderr.println("flotilla-client: " + line));
        }
        if (verbose && error != null) {
            error.printStackTrace(stderr);
        }
        stdout.flush();
        stderr.flush();
    }

    /** How results are written. */
    enum Format { TEXT, JSON }

    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    static String toJson(Object value) {
        try {
            return Json.MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }
}
