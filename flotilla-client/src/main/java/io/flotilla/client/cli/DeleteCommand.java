package io.flotilla.client.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "delete", mixinStandardHelpOptions = true,
        description = {"Deletes KEY; prints OK.", "Exits with 1 if KEY was already absent."})
final class DeleteCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "KEY")
    String key;

    @Override
    public Integer call() {
        return FlotillaCli.of(spec).execute("delete", client -> {
            Reply reply = new Reply("delete").field("key", key);
            if (!client.delete(FlotillaCli.bytes(key))) {
                return reply.outcome("not_found", ExitCode.NOT_FOUND, "delete: key \"" + key + "\" not found");
            }
            return reply.line("OK");
        });
    }
}
