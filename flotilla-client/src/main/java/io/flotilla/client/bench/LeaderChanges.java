package io.flotilla.client.bench;

import io.flotilla.client.ClusterStatus;
import io.flotilla.client.wire.NodeStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The terms and leaders that status polls saw during a run. Raft never keeps a leader across terms,
 * so the changes are counted as new terms: exact however rarely the polls come, though a split vote
 * counts each of its terms. Observations arrive from the client's threads.
 */
public final class LeaderChanges {
    /** From {@code atSeconds} into the run, the newest term any node reported and the leader the nodes named (0: none). */
    public record Sighting(double atSeconds, long term, int leaderId) {
    }

    private final List<Sighting> sightings = new ArrayList<>();

    /** Records the cluster's term and leader if either changed; a poll no node answered says nothing. */
    public synchronized void observe(double atSeconds, ClusterStatus status) {
        OptionalLong term = status.nodes().stream().flatMap(n -> n.status().stream()).mapToLong(NodeStatus::term).max();
        if (term.isEmpty()) {
            return;
        }
        Sighting last = sightings.isEmpty() ? null : sightings.get(sightings.size() - 1);
        if (last != null && term.getAsLong() < last.term()) { // a node that lags answered alone: it knows less, not older news
            return;
        }
        if (last == null || last.term() != term.getAsLong() || last.leaderId() != status.leaderId()) {
            sightings.add(new Sighting(atSeconds, term.getAsLong(), status.leaderId()));
        }
    }

    public synchronized List<Sighting> sightings() {
        return List.copyOf(sightings);
    }

    /** New terms between the first and the last poll answered; empty if none was. */
    public synchronized OptionalLong count() {
        return sightings.isEmpty() ? OptionalLong.empty()
                : OptionalLong.of(sightings.get(sightings.size() - 1).term() - sightings.get(0).term());
    }

    /** "leader changes: 1 (terms 3 -> 4)", and with changes the leaders seen: "leaders: node 1 (term 3, 0.0 s), ...". */
    public synchronized String text() {
        if (sightings.isEmpty()) {
            return "leader changes: unknown (no node answered a status query)";
        }
        long first = sightings.get(0).term();
        long last = sightings.get(sightings.size() - 1).term();
        String line = "leader changes: " + (last - first) + " (terms " + first + " -> " + last + ")";
        if (last == first && sightings.size() == 1) {
            return line;
        }
        List<String> seen = new ArrayList<>();
        for (Sighting s : sightings) {
            seen.add(String.format(Locale.ROOT, "%s (term %d, %.1f s)", s.leaderId() == 0 ? "none" : "node " + s.leaderId(),
                    s.term(), s.atSeconds()));
        }
        return line + String.format("%nleaders: ") + String.join(", ", seen);
    }

    /** "leaderChanges": N (null if unknown), "terms": {"first", "last"}, "leaders": [{"atSeconds", "term", "leaderId"}]. */
    public synchronized Map<String, Object> json() {
        Map<String, Object> json = new LinkedHashMap<>();
        OptionalLong count = count();
        json.put("leaderChanges", count.isPresent() ? count.getAsLong() : null);
        Map<String, Object> terms = new LinkedHashMap<>();
        terms.put("first", sightings.isEmpty() ? null : sightings.get(0).term());
        terms.put("last", sightings.isEmpty() ? null : sightings.get(sightings.size() - 1).term());
        json.put("terms", terms);
        List<Map<String, Object>> leaders = new ArrayList<>();
        for (Sighting s : sightings) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("atSeconds", Math.round(s.atSeconds() * 1000) / 1000.0);
            one.put("term", s.term());
            one.put("leaderId", s.leaderId());
            leaders.add(one);
        }
        json.put("leaders", leaders);
        return json;
    }
}
