package io.flotilla.client.cli;

import io.flotilla.core.Bytes;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "cas", mixinStandardHelpOptions = true, sortOptions = false,
        customSynopsis = {"flotilla-client cas [OPTIONS] KEY EXPECTED NEW", "   or: flotilla-client cas [OPTIONS] --expect-absent KEY NEW"},
        description = {"Compare-and-set: sets KEY to NEW only if it now holds EXPECTED (or, with --expect-absent, only if it "
                + "is absent); prints OK.", "Exits with 2 if KEY held something else; nothing is written then."})
final class CasCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--expect-absent", description = "Write only if KEY is absent (then give just KEY NEW).")
    boolean expectAbsent;

    @Parameters(arity = "2..3", paramLabel = "KEY [EXPECTED] NEW", hideParamSyntax = true,
            description = "KEY EXPECTED NEW, or KEY NEW with --expect-absent.")
    List<String> args;

    @Override
    public Integer call() {
        int wanted = expectAbsent ? 2 : 3;
        if (args.size() != wanted) {
            throw new CommandLine.ParameterException(spec.commandLine(), expectAbsent
                    ? "cas --expect-absent takes KEY NEW, got " + args.size() + " arguments"
                    : "cas takes KEY EXPECTED NEW (or --expect-absent KEY NEW), got " + args.size() + " arguments");
        }
        String key = args.get(0);
        Optional<Bytes> expected = expectAbsent ? Optional.empty() : Optional.of(FlotillaCli.bytes(args.get(1)));
        Bytes value = FlotillaCli.bytes(args.get(wanted - 1));
        return FlotillaCli.of(spec).execute("cas", client -> {
            Reply reply = new Reply("cas").field("key", key);
            if (!client.cas(FlotillaCli.bytes(key), expected, value)) {
                return reply.outcome("cas_mismatch", ExitCode.CAS_MISMATCH, "cas: key \"" + key + "\" "
                        + (expectAbsent ? "is present" : "does not hold the expected value") + "; nothing was written");
            }
            return reply.line("OK");
        });
    }
}
