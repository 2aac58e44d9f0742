package io.flotilla.client.cli;

import io.flotilla.client.ClusterStatus;
import io.flotilla.client.wire.NodeStatus;
import io.flotilla.core.Member;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Asks every node for its id, role, term, commit and applied index, the leader it knows and the "
                + "members of the configuration it uses (a removed node says REMOVED); names the leader and the nodes that did not answer.",
                "Exits with 3 if no node answered."})
final class StatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return FlotillaCli.of(spec).execute("status", client -> render(client.status()));
    }

    /** The configuration a node uses: "1,2,3,4(learner)", "none (waits to be added)", and whether it was removed. */
    static String describeMembers(NodeStatus s) {
        StringBuilder out = new StringBuilder();
        s.members().forEach((id, kind) -> out.append(out.length() == 0 ? "" : ",").append(id)
                .append(kind == Member.Kind.VOTER ? "" : "(" + MemberCommand.kind(kind) + ")"));
        if (out.length() == 0) {
            out.append("-");
        }
        return s.removed() ? out + " REMOVED" : out.toString();
    }

    static Reply render(ClusterStatus status) {
        Reply reply = new Reply("status");
        List<Map<String, Object>> nodes = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        rows.add(String.format("%-5s %-21s %-13s %6s %8s %8s %8s %7s  %s", "NODE", "ADDRESS", "ROLE", "TERM", "COMMIT", "APPLIED",
                "LAST", "LEADER", "MEMBERS"));
        for (ClusterStatus.Node node : status.nodes()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("address", node.describeAddress());
            json.put("reachable", node.reachable());
            if (node.status().isPresent()) {
                NodeStatus s = node.status().get();
                json.put("id", s.nodeId());
                json.put("role", s.role());
                json.put("term", s.term());
                json.put("leaderId", s.leaderId());
                json.put("commitIndex", s.commitIndex());
                json.put("appliedIndex", s.appliedIndex());
                json.put("lastIndex", s.lastIndex());
                List<Map<String, Object>> members = new ArrayList<>();
                s.members().forEach((id, kind) -> members.add(Map.of("id", id, "kind", MemberCommand.kind(kind))));
                json.put("members", members);
                json.put("removed", s.removed());
                rows.add(String.format("%-5d %-21s %-13s %6d %8d %8d %8d %7s  %s", s.nodeId(), node.describeAddress(), s.role(),
                        s.term(), s.commitIndex(), s.appliedIndex(), s.lastIndex(), s.leaderId() == 0 ? "-" : s.leaderId(),
                        describeMembers(s)));
            } else {
                json.put("error", node.error());
                rows.add(String.format("%-5s %-21s unreachable: %s", "-", node.describeAddress(), node.error()));
            }
            nodes.add(json);
        }
        Optional<ClusterStatus.Node> leader = status.leader();
        Map<String, Object> leaderJson = null;
        if (leader.isPresent()) {
            leaderJson = new LinkedHashMap<>();
            leaderJson.put("id", leader.get().status().orElseThrow().nodeId());
            leaderJson.put("address", leader.get().describeAddress());
            rows.add("leader: node " + leaderJson.get("id") + " at " + leaderJson.get("address"));
        } else if (status.leaderId() != 0) {
            leaderJson = new LinkedHashMap<>();
            leaderJson.put("id", status.leaderId());
            leaderJson.put("address", null);
            rows.add("leader: node " + status.leaderId() + " (named by the others; not in the node list, or it did not answer)");
        } else {
            rows.add("leader: none known (an election may be running)");
        }
        List<String> unreachable = status.unreachable().stream().map(ClusterStatus.Node::describeAddress).toList();
        rows.add("unreachable: " + (unreachable.isEmpty() ? "none" : String.join(", ", unreachable)));
        rows.forEach(reply::line);
        reply.field("leader", leaderJson).field("nodes", nodes).field("unreachable", unreachable);
        if (unreachable.size() == status.nodes().size()) {
            reply.outcome("unavailable", ExitCode.UNAVAILABLE, "status: no node answered");
        }
        return reply;
    }
}
