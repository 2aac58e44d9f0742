package io.flotilla.core.protocol;

public enum Role {
    FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER
}
