package io.flotilla.core.protocol;

import io.flotilla.core.ClusterConfig;
import io.flotilla.core.NodeHaltedException;
import io.flotilla.core.message.BootstrapProbeResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Decides whether a node that starts with no state at all may found the cluster. Raft assumes a
 * voter never forgets its term, vote or log; a node whose data directory was lost would otherwise
 * bootstrap again and could vote for a candidate missing entries it had acknowledged.
 *
 * <p>The rule: bootstrap only once a majority of the <em>other</em> founders answered that they
 * are fresh too (term at most 1, nothing beyond the founding configuration entry); refuse as soon
 * as any answer shows the cluster exists. Why it is safe: if this member ever voted or acknowledged
 * an entry, a leader was elected in some term of at least 2 by a quorum, and every member of that
 * quorum except this one durably holds a term of at least 2. That is at least {@code floor(n/2)}
 * of the {@code n - 1} others, and any majority of the others ({@code floor((n-1)/2) + 1}) meets
 * them: the two counts add up to {@code n}. This holds while at most one member has lost its state.
 */
final class BootstrapCheck {
    private final int id;
    private final ClusterConfig founders;
    private final Set<Integer> fresh = new TreeSet<>();
    private final int needed;

    BootstrapCheck(int id, ClusterConfig founders) {
        if (!founders.isVoter(id)) {
            throw new IllegalArgumentException("node " + id + " is not one of the founders " + founders
                    + "; a node joining an existing cluster does not bootstrap");
        }
        this.id = id;
        this.founders = founders;
        int others = founders.voters().size() - 1;
        this.needed = others == 0 ? 0 : others / 2 + 1;
    }

    ClusterConfig founders() {
        return founders;
    }

    boolean satisfied() {
        return fresh.size() >= needed;
    }

    /** The founders still to ask. */
    List<Integer> unanswered() {
        List<Integer> out = new ArrayList<>();
        for (int peer : founders.voters()) {
            if (peer != id && !fresh.contains(peer)) {
                out.add(peer);
            }
        }
        return out;
    }

    /**
     * Records a founder's answer.
     *
     * @throws NodeHaltedException if the answer shows the cluster already exists
     */
    void answer(BootstrapProbeResponse r) {
        if (!founders.isVoter(r.from())) {
            return;
        }
        if (r.term() > 1 || r.lastIndex() > 1) {
            throw new NodeHaltedException("node " + id + " has no data, but the cluster already exists (node " + r.from()
                    + " is at term " + r.term() + " with " + r.lastIndex() + " log entries). A member that lost its data must"
                    + " not rejoin as the member it was: it could help lose committed writes. Replace it: remove member "
                    + id + " and add a new member with an empty data directory (see 'Replacing a lost disk' in the README).");
        }
        fresh.add(r.from());
    }
}
