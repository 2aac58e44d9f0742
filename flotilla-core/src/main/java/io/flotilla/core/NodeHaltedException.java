package io.flotilla.core;

/**
 * The node stopped itself because going on could break Raft's safety: it has lost the state it
 * promised to keep (it must not rejoin as the member it was), or its log contradicts an entry it
 * knows to be committed. The message is one line saying what happened and what is safe to do.
 * Never retried: a runtime that sees it stops the node for good.
 */
public final class NodeHaltedException extends RuntimeException {
    public NodeHaltedException(String message) {
        super(message, null, false, false);
    }
}
