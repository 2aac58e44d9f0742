package io.flotilla.client.wire;

import io.flotilla.core.Bytes;

/**
 * The answer to {@link Request.SnapshotBegin} (protocol version 4): a consistent snapshot the node
 * took (or reused) and holds open for this client, which reads its data with
 * {@link Request.SnapshotRead} naming {@code nodeId} and {@code streamId}.
 *
 * @param nodeId     the node that holds the snapshot open (the leader when it was taken)
 * @param streamId   names the open snapshot on that node; it closes after a minute without a read
 * @param clusterId  that node's cluster id
 * @param index      the last log index the snapshot covers: every write acknowledged before the request is in it
 * @param term       the term of that entry
 * @param config     the cluster's configuration at {@code index}, in the core's encoding ({@code ClusterConfig.encode()})
 * @param dataLength the state machine data's length in bytes
 * @param dataCrc    CRC32C of the whole data, computed when the snapshot was written
 */
public record SnapshotInfo(int nodeId, long streamId, String clusterId, long index, long term, Bytes config, long dataLength,
                           int dataCrc) {
    public SnapshotInfo {
        if (index < 1 || term < 1 || dataLength < 0) {
            throw new IllegalArgumentException("a snapshot has index and term from 1 and a length from 0, got index " + index
                    + ", term " + term + ", length " + dataLength);
        }
    }
}
