package io.flotilla.server;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.RaftMetrics;
import io.flotilla.core.RaftRuntime;
import io.flotilla.core.protocol.Role;
import io.flotilla.core.protocol.Status;
import io.flotilla.server.http.HttpAnswer;
import io.flotilla.server.kv.KvStateMachine;
import io.flotilla.server.net.NodeServer;
import io.flotilla.server.net.PeerTransport;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The node's Prometheus metrics ({@code GET /metrics}; the families are listed in docs/operations.md).
 * Three sources: the Raft node's own reports ({@link RaftMetrics}, on the node's thread), every client
 * request as it is answered ({@link #instrument}, on Netty threads), and values read only when scraped
 * (the node's status, the state machine's counts, the ports' counters, the JVM). Nothing here runs on
 * the node's thread but a histogram observation or a counter increment.
 */
final class NodeMetrics implements RaftMetrics {
    /** What Prometheus expects for the text format 0.0.4. */
    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private static final double[] REQUEST_SECONDS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    private static final double[] FSYNC_SECONDS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
            1, 2.5};
    private static final double[] SNAPSHOT_SECONDS = {0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
    private static final double[] SYNC_ENTRIES = {0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
    private static final double[] BATCH_ENTRIES = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

    /** The {@code command} label of each request kind. */
    enum Command {
        GET, SET, DELETE, CAS, GET_MANY, SET_MANY, DELETE_MANY, STATUS, MEMBER_LIST, MEMBER_CHANGE, SNAPSHOT_BEGIN, SNAPSHOT_READ;

        final String label = name().toLowerCase(Locale.ROOT);

        static Command of(Request r) {
            if (r instanceof Request.Get) {
                return GET;
            } else if (r instanceof Request.Set) {
                return SET;
            } else if (r instanceof Request.Delete) {
                return DELETE;
            } else if (r instanceof Request.Cas) {
                return CAS;
            } else if (r instanceof Request.GetMany) {
                return GET_MANY;
            } else if (r instanceof Request.SetMany) {
                return SET_MANY;
            } else if (r instanceof Request.DeleteMany) {
                return DELETE_MANY;
            } else if (r instanceof Request.StatusQuery) {
                return STATUS;
            } else if (r instanceof Request.MemberList) {
                return MEMBER_LIST;
            } else if (r instanceof Request.MemberChange) {
                return MEMBER_CHANGE;
            } else if (r instanceof Request.SnapshotBegin) {
                return SNAPSHOT_BEGIN;
            } else if (r instanceof Request.SnapshotRead) {
                return SNAPSHOT_READ;
            }
            throw new AssertionError(r); // a new request kind needs its label here (NodeMetricsTest)
        }
    }

    private static final int CODES = Response.Code.values().length;

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.builder().setIncludeCreatedTimestamps(false).build();

    private final Histogram requestSeconds;
    private final Counter proposals;
    private final Counter reads;
    private final Histogram fsyncSeconds;
    private final Histogram fsyncEntries;
    private final Histogram appendEntries;
    private final Histogram snapshotSeconds;
    private final Counter snapshotBytes;
    private final Counter leaderChanges;
    private final Counter elections;

    // Label children by index, resolved once each (a lookup per request would allocate); benign races.
    private final DistributionDataPoint[] requestChildren = new DistributionDataPoint[Command.values().length * 2];
    private final CounterDataPoint[] proposalChildren = new CounterDataPoint[CODES * 2];
    private final CounterDataPoint[] readChildren = new CounterDataPoint[CODES * 4];

    // Node thread only (roleChanged).
    private int lastLeader;
    private long lastLeaderTerm;

    NodeMetrics(int nodeId, String clusterId, String version, Supplier<RaftRuntime<?, ?, ?>> raft, Supplier<KvStateMachine> state,
                Supplier<NodeServer> port, Supplier<PeerTransport> peers, Supplier<String> healthProblem) {
        requestSeconds = Histogram.builder().name("flotilla_request_duration_seconds")
                .help("Client requests from arrival to answer, by command; source is client (a client's own connection) or relay"
                        + " (another node relayed it here, so it was counted there too)")
                .labelNames("command", "source").classicOnly().classicUpperBounds(REQUEST_SECONDS).withoutExemplars().register(registry);
        proposals = Counter.builder().name("flotilla_proposals_total")
                .help("Writes (set, delete, cas) and membership changes answered, by outcome (the answer's code)")
                .labelNames("outcome", "source").withoutExemplars().register(registry);
        reads = Counter.builder().name("flotilla_reads_total")
                .help("GETs answered, by outcome (the answer's code) and consistency (linearizable, or stale)")
                .labelNames("outcome", "consistency", "source").withoutExemplars().register(registry);
        fsyncSeconds = Histogram.builder().name("flotilla_fsync_duration_seconds")
                .help("Syncs of the log and hard state (one per batch of entries: group commit)")
                .classicOnly().classicUpperBounds(FSYNC_SECONDS).withoutExemplars().register(registry);
        fsyncEntries = Histogram.builder().name("flotilla_fsync_batch_entries")
                .help("Log entries made durable per sync (0: only the term or vote changed)")
                .classicOnly().classicUpperBounds(SYNC_ENTRIES).withoutExemplars().register(registry);
        appendEntries = Histogram.builder().name("flotilla_append_entries_batch_entries")
                .help("Entries per AppendEntries message sent to a follower (heartbeats without entries not counted)")
                .classicOnly().classicUpperBounds(BATCH_ENTRIES).withoutExemplars().register(registry);
        snapshotSeconds = Histogram.builder().name("flotilla_snapshot_duration_seconds")
                .help("Snapshots taken (of this node's state, capture to durable) and installed (sent by a leader, first chunk"
                        + " to restored), by kind; the count is the number of snapshots")
                .labelNames("kind").classicOnly().classicUpperBounds(SNAPSHOT_SECONDS).withoutExemplars().register(registry);
        snapshotBytes = Counter.builder().name("flotilla_snapshot_bytes_total")
                .help("Bytes of snapshot data taken or installed, by kind")
                .labelNames("kind").withoutExemplars().register(registry);
        leaderChanges = Counter.builder().name("flotilla_leader_changes_total")
                .help("Leaders this node has seen take over (a new leader, or the same one in a new term)")
                .withoutExemplars().register(registry);
        elections = Counter.builder().name("flotilla_elections_total")
                .help("Elections this node started as a candidate (after winning a pre-vote)")
                .withoutExemplars().register(registry);
        // The main series exist from the start (at 0), so that rates and dashboards work before the first event.
        for (String kind : new String[] {"taken", "installed"}) {
            snapshotSeconds.labelValues(kind);
            snapshotBytes.labelValues(kind);
        }
        for (Command c : new Command[] {Command.GET, Command.SET, Command.DELETE, Command.CAS}) {
            requestChildren[c.ordinal() * 2] = requestSeconds.labelValues(c.label, sourceLabel(false));
        }
        proposalChildren[Response.Code.OK.ordinal() * 2] = proposals.labelValues(codeLabel(Response.Code.OK), sourceLabel(false));
        readChildren[Response.Code.OK.ordinal() * 4] = reads.labelValues(codeLabel(Response.Code.OK), "linearizable", sourceLabel(false));

        Info.builder().name("flotilla_info").help("This node: its id, cluster and version (always 1)")
                .labelNames("node_id", "cluster_id", "version").register(registry)
                .setLabelValues(Integer.toString(nodeId), clusterId, version);
        gauge("flotilla_role", "1 for the role this node has, 0 for the others", cb -> {
            Status s = status(raft);
            for (Role role : Role.values()) {
                cb.call(s != null && s.role() == role ? 1 : 0, role.name().toLowerCase(Locale.ROOT));
            }
        }, "role");
        statusGauge("flotilla_term", "The current term", raft, Status::term);
        statusGauge("flotilla_leader_id", "The leader this node knows (0: none)", raft, Status::leader);
        statusGauge("flotilla_commit_index", "Highest log index known committed", raft, Status::commitIndex);
        statusGauge("flotilla_applied_index", "Highest log index applied to the state machine", raft, Status::appliedIndex);
        statusGauge("flotilla_last_index", "Highest index in this node's log", raft, Status::lastIndex);
        statusGauge("flotilla_leader_commit_index", "The leader's commit index as this node knows it", raft, Status::leaderCommit);
        gauge("flotilla_follower_match_index", "On the leader: each follower's highest index known replicated", cb -> {
            Status s = status(raft);
            if (s != null && s.role() == Role.LEADER) {
                s.peers().forEach((id, p) -> cb.call(p.matchIndex(), Integer.toString(id)));
            }
        }, "follower");
        gauge("flotilla_follower_lag_entries", "On the leader: entries of its log each follower does not hold yet", cb -> {
            Status s = status(raft);
            if (s != null && s.role() == Role.LEADER) {
                s.peers().forEach((id, p) -> cb.call(Math.max(0, s.lastIndex() - p.matchIndex()), Integer.toString(id)));
            }
        }, "follower");
        gauge("flotilla_healthy", "1 when /health answers 200, else 0", cb -> cb.call(healthProblem.get().isEmpty() ? 1 : 0));
        gauge("flotilla_keys", "Keys in the store", cb -> {
            KvStateMachine kv = state.get();
            if (kv != null) {
                cb.call(kv.keyCount());
            }
        });
        gauge("flotilla_sessions", "Client sessions the store remembers", cb -> {
            KvStateMachine kv = state.get();
            if (kv != null) {
                cb.call(kv.sessionCount());
            }
        });
        gauge("flotilla_client_connections", "Client connections open now", cb -> {
            NodeServer s = port.get();
            if (s != null) {
                cb.call(s.clientConnections());
            }
        });
        gauge("flotilla_open_connections", "Connections open now on the node's port: clients, peers, relays, and those in their hello",
                cb -> {
                    NodeServer s = port.get();
                    if (s != null) {
                        cb.call(s.openConnections());
                    }
                });
        counter("flotilla_network_received_bytes_total", "Bytes read from the network (as on the wire): inbound is the node's"
                + " port (clients, peers, relays), outbound its own links to peers", cb -> {
                    NodeServer s = port.get();
                    PeerTransport t = peers.get();
                    if (s != null) {
                        cb.call(s.bytesReceived(), "inbound");
                    }
                    if (t != null) {
                        cb.call(t.bytesReceived(), "outbound");
                    }
                }, "connections");
        counter("flotilla_network_sent_bytes_total", "Bytes written to the network (as on the wire), as for received", cb -> {
            NodeServer s = port.get();
            PeerTransport t = peers.get();
            if (s != null) {
                cb.call(s.bytesSent(), "inbound");
            }
            if (t != null) {
                cb.call(t.bytesSent(), "outbound");
            }
        }, "connections");
        counter("flotilla_refused_connections_total", "Connections refused at once: over --max-connections clients, or over"
                + " --max-handshakes in their hello", cb -> {
                    NodeServer s = port.get();
                    if (s != null) {
                        cb.call(s.refusedClients(), "max_connections");
                        cb.call(s.refusedHandshakes(), "max_handshakes");
                    }
                }, "reason");
        counter("flotilla_closed_connections_total", "Connections the node closed: bad (malformed, oversized, silent) input,"
                + " a client not reading its answers, or idle", cb -> {
                    NodeServer s = port.get();
                    if (s != null) {
                        cb.call(s.closedForBadInput(), "bad_input");
                        cb.call(s.closedSlowReaders(), "slow_reader");
                        cb.call(s.closedIdle(), "idle");
                    }
                }, "reason");
        counter("flotilla_dropped_messages_total", "Raft messages dropped (Raft resends): the node's inbox was full, a peer link"
                + " was down or backed up, or the message contradicted what the node knows (invalid)", cb -> {
                    RaftRuntime<?, ?, ?> r = raft.get();
                    PeerTransport t = peers.get();
                    if (r != null) {
                        cb.call(r.droppedMessages(), "inbox_full");
                        cb.call(r.status().droppedInvalid(), "invalid");
                    }
                    if (t != null) {
                        cb.call(t.droppedMessages(), "link");
                    }
                }, "reason");
        JvmMetrics.builder().register(registry);
    }

    private static Status status(Supplier<RaftRuntime<?, ?, ?>> raft) {
        RaftRuntime<?, ?, ?> r = raft.get();
        return r == null ? null : r.status();
    }

    private void gauge(String name, String help, Consumer<GaugeWithCallback.Callback> callback, String... labels) {
        GaugeWithCallback.builder().name(name).help(help).labelNames(labels).callback(callback).register(registry);
    }

    private void counter(String name, String help, Consumer<CounterWithCallback.Callback> callback, String... labels) {
        CounterWithCallback.builder().name(name).help(help).labelNames(labels).callback(callback).register(registry);
    }

    private void statusGauge(String name, String help, Supplier<RaftRuntime<?, ?, ?>> raft, ToLongFunction<Status> value) {
        gauge(name, help, cb -> {
            Status s = status(raft);
            if (s != null) {
                cb.call(value.applyAsLong(s));
            }
        });
    }

    // ---- requests ------------------------------------------------------------------------------------

    /** {@code handler}, with each request's latency and outcome counted once it is answered. */
    NodeServer.RequestHandler instrument(NodeServer.RequestHandler handler) {
        return (request, forwarded) -> {
            long started = System.nanoTime();
            CompletableFuture<Response> answer = handler.handle(request, forwarded);
            answer.whenComplete((response, error) -> answered(request, forwarded, response, System.nanoTime() - started));
            return answer;
        };
    }

    private void answered(Request request, boolean forwarded, Response response, long nanos) {
        Command command = Command.of(request);
        int source = forwarded ? 1 : 0;
        int r = command.ordinal() * 2 + source;
        DistributionDataPoint latency = requestChildren[r];
        if (latency == null) {
            latency = requestChildren[r] = requestSeconds.labelValues(command.label, sourceLabel(forwarded));
        }
        latency.observe(nanos / 1e9);
        // The handler never fails (NodeServer.RequestHandler); if it did, the client saw UNKNOWN_OUTCOME or UNAVAILABLE.
        Response.Code code = response != null ? response.code()
                : request.changesState() ? Response.Code.UNKNOWN_OUTCOME : Response.Code.UNAVAILABLE;
        if (request instanceof Request.Read read) {
            int i = (code.ordinal() * 2 + (read.stale() ? 1 : 0)) * 2 + source;
            CounterDataPoint c = readChildren[i];
            if (c == null) {
                c = readChildren[i] = reads.labelValues(codeLabel(code), read.stale() ? "stale" : "linearizable", sourceLabel(forwarded));
            }
            c.inc();
        } else if (request.changesState()) {
            int i = code.ordinal() * 2 + source;
            CounterDataPoint c = proposalChildren[i];
            if (c == null) {
                c = proposalChildren[i] = proposals.labelValues(codeLabel(code), sourceLabel(forwarded));
            }
            c.inc();
        }
    }

    private static String codeLabel(Response.Code code) {
        return code.name().toLowerCase(Locale.ROOT);
    }

    private static String sourceLabel(boolean forwarded) {
        return forwarded ? "relay" : "client";
    }

    // ---- the Raft node's reports (its thread; syncs and batches also the storage thread's) ------------

    @Override
    public void synced(int entries, long nanos) {
        fsyncSeconds.observe(nanos / 1e9);
        fsyncEntries.observe(entries);
    }

    @Override
    public void appendEntriesSent(int entries) {
        appendEntries.observe(entries);
    }

    @Override
    public void snapshotTaken(long bytes, long nanos) {
        snapshotSeconds.labelValues("taken").observe(nanos / 1e9);
        snapshotBytes.labelValues("taken").inc(bytes);
    }

    @Override
    public void snapshotInstalled(long bytes, long nanos) {
        snapshotSeconds.labelValues("installed").observe(nanos / 1e9);
        snapshotBytes.labelValues("installed").inc(bytes);
    }

    @Override
    public void roleChanged(Role role, long term, int leader) {
        if (role == Role.CANDIDATE) {
            elections.inc();
        }
        if (leader != 0 && (leader != lastLeader || term != lastLeaderTerm)) {
            lastLeader = leader;
            lastLeaderTerm = term;
            leaderChanges.inc();
        }
    }

    // ---- scraping --------------------------------------------------------------------------------------

    /** Every metric in the Prometheus text format. */
    byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(32 << 10);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return out.toByteArray();
    }

    /**
     * The {@code /metrics} route. Scraped off the Netty thread (the JVM's figures take a millisecond or
     * so), which the node's port shares.
     */
    CompletableFuture<HttpAnswer> route(QueryStringDecoder request) {
        return CompletableFuture.supplyAsync(() -> new HttpAnswer(200, CONTENT_TYPE, scrape()));
    }
}
