package io.flotilla.client.cli;

import io.flotilla.client.HostPort;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.wire.Membership;
import io.flotilla.core.Member;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code member list|add|promote|remove}: the cluster's membership, through its leader. A refusal by
 * the cluster (a change in progress, a member not caught up, too few voters left, an id in use or
 * removed) exits with 4 and the cluster's one-line reason.
 */
@Command(name = "member", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "list | add | promote | remove",
        description = {"Lists and changes the cluster's members (one change at a time).",
            "A new node starts with bin/flotilla-server --id ID --port PORT --join HOST:PORT, then is added with member add."},
        subcommands = {MemberCommand.ListMembers.class, MemberCommand.Add.class, MemberCommand.Promote.class,
            MemberCommand.Remove.class})
final class MemberCommand {

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = {"Prints every member as the leader sees it: ID ADDRESS KIND match=N lag=N (the leader marked), "
                    + "then the removed ids.", "KIND is voter, learner, or joining (a learner promoted once caught up); "
                    + "lag is how many entries it is behind the leader's log."})
    static final class ListMembers implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            return FlotillaCli.of(spec).execute("member list", client -> render(new Reply("member list"), client.members(), true));
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Adds node ID, listening at HOST:PORT, as a member that receives the log without voting; "
                    + "the leader promotes it to voter once it has caught up (unless --learner). Prints OK.",
                "Start the node first: bin/flotilla-server --id ID --port PORT --join <a member's HOST:PORT>."})
    static final class Add implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "ID")
        int id;

        @Parameters(index = "1", paramLabel = "HOST:PORT", description = "Where the node listens; its peers reach it there.")
        String address;

        @Option(names = "--learner", description = "Keep it a learner (never votes) until 'member promote ID'.")
        boolean learner;

        @Option(names = "--wait", description = "Wait until it is a voter (within --timeout, e.g. --timeout 5m), "
                + "printing its progress on standard error.")
        boolean wait;

        @Override
        public Integer call() {
            FlotillaCli root = FlotillaCli.of(spec);
            String command = "member add";
            if (id <= 0) {
                return root.refuse(command, "member add: ID must be a positive number, got " + id);
            }
            if (!isHostPort(address)) {
                return root.refuse(command, "member add: '" + address + "' is not HOST:PORT");
            }
            if (learner && wait) {
                return root.refuse(command, "member add: --wait waits for the promotion to voter, which a --learner never gets;"
                        + " drop one of them");
            }
            long start = System.nanoTime();
            return root.execute(command, client -> {
                Membership added = client.addMember(id, address, learner);
                Reply reply = new Reply(command).field("id", id).field("address", address);
                return wait ? awaitVoter(root, client, reply, added, start) : render(reply, added, false).line("OK");
            });
        }

        /** Polls the membership until node {@code id} votes, reporting its lag as it shrinks. */
        private Reply awaitVoter(FlotillaCli root, FlotillaClient client, Reply reply, Membership membership, long start) {
            PrintWriter err = root.streams().err();
            long deadline = start + root.timeout.toNanos();
            long nextReport = 0;
            while (true) {
                Optional<Membership.MemberInfo> member = membership.member(id);
                if (member.isEmpty()) {
                    return reply.outcome("invalid", ExitCode.INVALID, "member add " + id + ": node " + id
                            + " is no longer a member" + (membership.isRemoved(id) ? " (it was removed)" : ""));
                }
                if (member.get().kind() == Member.Kind.VOTER) {
                    return render(reply, membership, false).line("OK");
                }
                long now = System.nanoTime();
                if (now - deadline >= 0) {
                    return render(reply, membership, false).outcome("unavailable", ExitCode.UNAVAILABLE, "member add " + id
                            + ": added, but node " + id + " is not a voter yet after " + DurationConverter.format(root.timeout)
                            + " (" + progress(member.get()) + "); it is promoted once it catches up: see member list");
                }
                if (now - nextReport >= 0) {
                    err.println("member add " + id + ": node " + id + " is " + kind(member.get().kind()) + ", " + progress(member.get()));
                    err.flush();
                    nextReport = now + Duration.ofSeconds(1).toNanos();
                }
                sleep(Math.min(200, Math.max(1, (deadline - now) / 1_000_000)));
                membership = client.members();
            }
        }
    }

    @Command(name = "promote", mixinStandardHelpOptions = true,
            description = {"Makes learner ID a voter; refused unless it has caught up with the leader. Prints OK."})
    static final class Promote implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "ID")
        int id;

        @Override
        public Integer call() {
            return FlotillaCli.of(spec).execute("member promote",
                    client -> render(new Reply("member promote").field("id", id), client.promoteMember(id), false).line("OK"));
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = {"Removes member ID: it stops (its process exits with 0), and the id is never used again "
                    + "in this cluster. A removed leader hands leadership over once the change commits. Prints OK."})
    static final class Remove implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "ID")
        int id;

        @Override
        public Integer call() {
            return FlotillaCli.of(spec).execute("member remove",
                    client -> render(new Reply("member remove").field("id", id), client.removeMember(id), false).line("OK"));
        }
    }

    /** The membership as JSON fields, and (if {@code lines}) as text: one line per member, then the removed ids. */
    static Reply render(Reply reply, Membership membership, boolean lines) {
        List<Map<String, Object>> members = new ArrayList<>();
        for (Membership.MemberInfo m : membership.members()) {
            boolean leads = m.id() == membership.leaderId();
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("id", m.id());
            json.put("address", m.address());
            json.put("kind", kind(m.kind()));
            json.put("match", m.match());
            json.put("lag", m.lag());
            json.put("leader", leads);
            members.add(json);
            if (lines) {
                reply.line(m.id() + " " + (m.address().isEmpty() ? "-" : m.address()) + " " + kind(m.kind()) + " match=" + m.match()
                        + " lag=" + m.lag() + (leads ? " leader" : ""));
            }
        }
        if (lines) {
            reply.line("removed: " + (membership.removed().isEmpty() ? "none"
                    : String.join(",", membership.removed().stream().map(String::valueOf).toList())));
        }
        return reply.field("leader", membership.leaderId()).field("members", members).field("removed", membership.removed());
    }

    static String kind(Member.Kind kind) {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    private static String progress(Membership.MemberInfo m) {
        return "match=" + m.match() + " lag=" + m.lag();
    }

    static boolean isHostPort(String address) {
        if (address.chars().anyMatch(c -> c <= ' ' || c >= 127)) {
            return false;
        }
        try {
            HostPort.parse(address);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the new member");
        }
    }
}
