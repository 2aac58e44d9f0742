package io.flotilla.server;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.SnapshotInfo;
import io.flotilla.core.Bytes;
import io.flotilla.core.RaftRuntime;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.storage.SnapshotReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshots this node holds open for backups ({@code flotilla-client snapshot save}). On the
 * leader, {@link #begin()} gets a consistent snapshot from the Raft node ({@link RaftRuntime#snapshotNow()}:
 * leadership confirmed, every committed write in it) and opens it; the client then {@link #read}s it by
 * offset. An open snapshot holds its file open, so it stays readable while the node takes newer snapshots
 * and compacts the old one away, and wherever leadership goes meanwhile.
 *
 * <p>At most {@link #MAX_OPEN} are open at once; one not read for {@link #IDLE} is closed (its client
 * is gone). Files are opened and read on a thread of their own, never on the node's thread or Netty's.
 */
final class BackupStreams implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BackupStreams.class);
    static final int MAX_OPEN = 4;
    static final Duration IDLE = Duration.ofSeconds(60);

    /** Opens a stored snapshot for reading; empty if it is no longer stored. */
    interface Opener {
        Optional<SnapshotReader> open(SnapshotMeta meta) throws IOException;
    }

    private final int nodeId;
    private final String clusterId;
    private final RaftRuntime<?, ?, ?> raft;
    private final Opener opener;
    private final int maxChunkBytes;
    private final Duration idle;
    private final ExecutorService io;
    private final SecureRandom random = new SecureRandom();
    private final Map<Long, Stream> streams = new ConcurrentHashMap<>();

    private static final class Stream {
        final SnapshotReader reader;
        volatile long lastUsedNanos = System.nanoTime();
        volatile long bytesRead;

        Stream(SnapshotReader reader) {
            this.reader = reader;
        }
    }

    /**
     * @param maxChunkBytes the most data one answer carries, so that it fits in a frame ({@code --max-frame-bytes} less room for the rest)
     */
    BackupStreams(int nodeId, String clusterId, RaftRuntime<?, ?, ?> raft, Opener opener, int maxChunkBytes, Duration idle) {
        if (maxChunkBytes < 1) {
            throw new IllegalArgumentException("maxChunkBytes must be positive: " + maxChunkBytes);
        }
        this.nodeId = nodeId;
        this.clusterId = clusterId;
        this.raft = raft;
        this.opener = opener;
        this.maxChunkBytes = maxChunkBytes;
        this.idle = idle;
        this.io = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "flotilla-backup-" + nodeId);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * A consistent snapshot, opened for this backup. Fails as {@link RaftRuntime#snapshotNow()} does
     * (NotLeaderException on a follower); UNAVAILABLE if {@link #MAX_OPEN} are open already.
     */
    CompletableFuture<Response> begin() {
        if (streams.size() >= MAX_OPEN) {
            return CompletableFuture.completedFuture(busy());
        }
        return raft.snapshotNow().thenApplyAsync(this::open, io);
    }

    private Response open(SnapshotMeta meta) {
        if (streams.size() >= MAX_OPEN) {
            return busy();
        }
        SnapshotReader reader;
        try {
            reader = opener.open(meta).orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (reader == null) { // compacted away between taking and opening it: very unlikely, and retrying helps
            return new Response.Failure(Response.Code.UNAVAILABLE, "the snapshot at index " + meta.index()
                    + " was replaced before it could be opened; retry");
        }
        long id;
        do {
            id = random.nextLong() & Long.MAX_VALUE;
        } while (id == 0 || streams.putIfAbsent(id, new Stream(reader)) != null);
        log.info("node {} serves a backup: the snapshot at index {} term {}, {} bytes (stream {})", nodeId, meta.index(),
                meta.term(), reader.dataLength(), Long.toHexString(id));
        return new Response.Snapshot(new SnapshotInfo(nodeId, id, clusterId, meta.index(), meta.term(), meta.config().encode(),
                reader.dataLength(), reader.dataCrc()));
    }

    private Response busy() {
        return new Response.Failure(Response.Code.UNAVAILABLE, MAX_OPEN + " backups are being read from node " + nodeId
                + " already; retry once one is done");
    }

    /** Data of an open snapshot: at most the request's {@code maxBytes}, and at most what fits in a frame. */
    CompletableFuture<Response> read(Request.SnapshotRead read) {
        Stream stream = streams.get(read.streamId());
        if (stream == null) {
            return done(new Response.Failure(Response.Code.INVALID, "snapshot stream " + Long.toHexString(read.streamId())
                    + " is not open on node " + nodeId + " (it closes after " + idle.toSeconds()
                    + " s without a read, and when the node stops): start the backup again"));
        }
        long length = stream.reader.dataLength();
        if (read.offset() < 0 || read.offset() > length || read.maxBytes() < 1) {
            return done(new Response.Failure(Response.Code.INVALID, "cannot read " + read.maxBytes() + " bytes at offset "
                    + read.offset() + " of a " + length + "-byte snapshot"));
        }
        stream.lastUsedNanos = System.nanoTime();
        int max = Math.min(read.maxBytes(), maxChunkBytes);
        try {
            return CompletableFuture.<Response>supplyAsync(() -> {
                try {
                    Bytes data = stream.reader.read(read.offset(), max);
                    stream.bytesRead += data.length();
                    stream.lastUsedNanos = System.nanoTime();
                    return new Response.SnapshotData(read.offset(), data);
                } catch (IOException e) {
                    throw new CompletionException(e);
                }
            }, io).exceptionally(e -> new Response.Failure(Response.Code.UNAVAILABLE, "cannot read the snapshot: "
                    + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage())));
        } catch (RejectedExecutionException stopped) {
            return done(new Response.Failure(Response.Code.UNAVAILABLE, "node " + nodeId + " is stopping"));
        }
    }

    /** Closes the snapshots nobody read for {@link #IDLE}; called now and then. */
    void closeIdle() {
        long now = System.nanoTime();
        streams.entrySet().removeIf(e -> {
            Stream s = e.getValue();
            if (now - s.lastUsedNanos < idle.toNanos()) {
                return false;
            }
            if (s.bytesRead < s.reader.dataLength()) {
                log.info("node {} closes backup stream {} after {} s without a read ({} of {} bytes read)", nodeId,
                        Long.toHexString(e.getKey()), idle.toSeconds(), s.bytesRead, s.reader.dataLength());
            }
            closeQuietly(s.reader);
            return true;
        });
    }

    int open() {
        return streams.size();
    }

    private static void closeQuietly(SnapshotReader reader) {
        try {
            reader.close();
        } catch (IOException e) {
            log.warn("cannot close {}: {}", reader, e.toString());
        }
    }

    private static CompletableFuture<Response> done(Response response) {
        return CompletableFuture.completedFuture(response);
    }

    @Override
    public void close() {
        io.shutdown();
        try {
            io.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        streams.values().forEach(s -> closeQuietly(s.reader));
        streams.clear();
    }
}
