package io.flotilla.client.cli;

import io.flotilla.client.ReadConsistency;
import io.flotilla.core.Bytes;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "get", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Prints the value of KEY.", "Exits with 1 if KEY is absent."})
final class GetCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "KEY")
    String key;

    @Option(names = "--stale", description = "Read from the node answering, without asking the leader: faster, but may miss recent writes.")
    boolean stale;

    @Override
    public Integer call() {
        return FlotillaCli.of(spec).execute("get", client -> {
            Optional<Bytes> value = client.get(FlotillaCli.bytes(key), stale ? ReadConsistency.STALE : ReadConsistency.LINEARIZABLE);
            Reply reply = new Reply("get").field("key", key);
            if (value.isEmpty()) {
                return reply.outcome("not_found", ExitCode.NOT_FOUND, "get: key \"" + key + "\" not found");
            }
            String text = value.get().utf8();
            return reply.field("value", text).line(text);
        });
    }
}
