package io.flotilla.client.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "set", mixinStandardHelpOptions = true, description = "Sets KEY to VALUE; prints OK.")
final class SetCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "KEY")
    String key;

    @Parameters(index = "1", paramLabel = "VALUE")
    String value;

    @Override
    public Integer call() {
        return FlotillaCli.of(spec).execute("set", client -> {
            client.set(FlotillaCli.bytes(key), FlotillaCli.bytes(value));
            return new Reply("set").field("key", key).line("OK");
        });
    }
}
