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
        description = {"Asks every node for its role, term, leader, commit/applied/last index, lag behind the leader, newest "
                + "snapshot and its age, keys, data directory size, uptime, version, health and the members of the configuration it "
                + "uses (a removed node says REMOVED); names the leader, unhealthy nodes and the nodes that did not answer.",
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

    /** "950 B", "12.3 KiB", "4.0 GiB". */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** "42s", "5m12s", "3h05m", "2d04h": the two largest units. */
    static String duration(long millis) {
        long s = Math.max(0, millis) / 1000;
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format("%dm%02ds", s / 60, s % 60);
        }
        if (s < 86400) {
            return String.format("%dh%02dm", s / 3600, s % 3600 / 60);
        }
        return String.format("%dd%02dh", s / 86400, s % 86400 / 3600);
    }

    static Reply render(ClusterStatus status) {
        return render(status, System.currentTimeMillis());
    }

    static Reply render(ClusterStatus status, long nowMillis) {
        Reply reply = new Reply("status");
        List<Map<String, Object>> nodes = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        int width = Math.max(7, status.nodes().stream().mapToInt(n -> n.describeAddress().length()).max().orElse(7));
        String columns = "%-5s %-" + width + "s %-9s %5s %6s %9s %9s %9s %7s %9s %8s %9s %9s %8s %-14s %-9s %s";
        rows.add(String.format(columns, "NODE", "ADDRESS", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LAST", "LAG",
                "SNAPSHOT", "SNAP-AGE", "KEYS", "DISK", "UPTIME", "VERSION", "HEALTH", "MEMBERS"));
        long leaderCommit = status.leader().flatMap(ClusterStatus.Node::status).map(NodeStatus::commitIndex).orElse(-1L);
        for (ClusterStatus.Node node : status.nodes()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("address", node.describeAddress());
            json.put("reachable", node.reachable());
            if (node.status().isPresent()) {
                NodeStatus s = node.status().get();
                NodeStatus.Details d = s.details();
                // The leader's own answer is the best measure; a node that does not hear the leader says what it knows.
                long lag = leaderCommit >= 0 ? Math.max(0, leaderCommit - s.appliedIndex()) : s.lag();
                json.put("id", s.nodeId());
                json.put("role", s.role());
                json.put("term", s.term());
                json.put("leaderId", s.leaderId());
                json.put("commitIndex", s.commitIndex());
                json.put("appliedIndex", s.appliedIndex());
                json.put("lastIndex", s.lastIndex());
                json.put("lag", lag);
                List<Map<String, Object>> members = new ArrayList<>();
                s.members().forEach((id, kind) -> members.add(Map.of("id", id, "kind", MemberCommand.kind(kind))));
                json.put("members", members);
                json.put("removed", s.removed());
                if (d.known()) {
                    json.put("version", d.version());
                    json.put("uptimeMillis", d.uptimeMillis());
                    json.put("snapshotIndex", d.snapshotIndex());
                    json.put("snapshotTerm", d.snapshotTerm());
                    json.put("snapshotTimeMillis", d.snapshotTimeMillis());
                    json.put("keys", d.keyCount());
                    json.put("dataDirBytes", d.dataDirBytes());
                    json.put("healthy", d.healthy());
                    if (!d.healthy()) {
                        json.put("healthProblem", d.healthProblem());
                        problems.add("node " + s.nodeId() + " is unhealthy: " + d.healthProblem());
                    }
                }
                rows.add(String.format(columns, s.nodeId(), node.describeAddress(), s.role(), s.term(),
                        s.leaderId() == 0 ? "-" : s.leaderId(), s.commitIndex(), s.appliedIndex(), s.lastIndex(), lag,
                        d.known() ? d.snapshotIndex() : "?", !d.known() ? "?" : d.snapshotTimeMillis() == 0 ? "-"
                                : duration(nowMillis - d.snapshotTimeMillis()),
                        d.known() ? d.keyCount() : "?", d.known() ? bytes(d.dataDirBytes()) : "?",
                        d.known() ? duration(d.uptimeMillis()) : "?", d.known() ? d.version() : "?",
                        !d.known() ? "?" : d.healthy() ? "ok" : "UNHEALTHY", describeMembers(s)).stripTrailing());
            } else {
                json.put("error", node.error());
                rows.add(String.format("%-5s %-" + width + "s unreachable: %s", "-", node.describeAddress(), node.error()));
            }
            nodes.add(json);
        }
        rows.addAll(problems);
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
