package io.flotilla.core;

/**
 * A piece of one stored snapshot's data, for sending it to a follower.
 *
 * @param data     the bytes read (empty at the end)
 * @param size     the whole snapshot's data length
 * @param checksum CRC32C of the whole snapshot's data, so the receiver can check it got exactly that snapshot
 */
public record SnapshotChunk(Bytes data, long size, int checksum) {
}
