package io.flotilla.client.wire;

import io.flotilla.core.Member;
import java.util.List;
import java.util.Optional;

/**
 * The cluster's membership as its leader sees it: the answer to {@link Request.MemberList} and to a
 * {@link Request.MemberChange} (then the configuration after the change).
 *
 * @param leaderId the leader that answered
 * @param members  every member by ascending id
 * @param removed  ids removed from the cluster, never used again, ascending
 */
public record Membership(int leaderId, List<MemberInfo> members, List<Integer> removed) {
    public Membership {
        members = List.copyOf(members);
        removed = List.copyOf(removed);
    }

    /**
     * One member. {@code match} is the highest log index the leader knows it holds (the leader's own
     * last index for the leader); {@code lag} is how far it is behind the leader's last index.
     */
    public record MemberInfo(int id, String address, Member.Kind kind, long match, long lag) {
    }

    public Optional<MemberInfo> member(int id) {
        return members.stream().filter(m -> m.id() == id).findFirst();
    }

    public boolean isRemoved(int id) {
        return removed.contains(id);
    }
}
