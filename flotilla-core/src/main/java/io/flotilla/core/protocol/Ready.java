package io.flotilla.core.protocol;

import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import io.flotilla.core.message.InstallSnapshot;
import io.flotilla.core.message.Message;
import java.util.List;

/**
 * The effects of the events since the last {@code Ready}, to be carried out in this order:
 * <ol>
 *   <li>send {@link #messages()} (they may travel while the disk is written);</li>
 *   <li>append {@link #entries()} and save {@link #hardState()} to storage, then sync once (on any
 *       thread: the node keeps taking events meanwhile, and reads none of these entries from storage
 *       until {@link RaftNode#advance(Ready)});</li>
 *   <li>write the {@link #snapshotChunks()} received from the leader; after the last one (done), commit
 *       the snapshot, reset the log to it and restore the state machine from it;</li>
 *   <li>send {@link #messagesAfterSync()}: votes and acknowledgements that promise what was just synced;</li>
 *   <li>apply {@link #committed()} in order and serve the reads in {@link #reads()} once their index is applied;</li>
 *   <li>call {@link RaftNode#advance(Ready)}.</li>
 * </ol>
 *
 * @param role the node's role and leader after these events
 */
public record Ready(HardState hardState, List<LogEntry> entries, List<Message> messages,
                    List<Message> messagesAfterSync, List<InstallSnapshot> snapshotChunks, List<LogEntry> committed,
                    List<ReadOutcome> reads, SoftState role) {
    /** Who leads, as this node sees it; not persisted. */
    public record SoftState(Role role, int leader, long term) {
    }
}
