package io.flotilla.faults;

import io.flotilla.client.ClientOptions;
import io.flotilla.client.ClientTls;
import io.flotilla.client.ClusterStatus;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.Poll;
import io.flotilla.client.RetryPolicy;
import io.flotilla.client.wire.NodeStatus;
import io.flotilla.server.TestPorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A cluster of real server processes started with {@code bin/flotilla-server}, as the README starts
 * them: founders with {@code --peers}, nodes added later with {@code --join}. With proxies, every
 * node is reached by its peers through a {@link NodeProxy} in front of it: that is its address in
 * every {@code --peers} and in {@code member add}, so the configuration in the log names it, and the
 * proxy tells the directed links apart to cut them one by one. Clients talk to the nodes' real ports
 * directly. Every process started is also registered with a JVM shutdown hook that kills it.
 *
 * <p>The cluster knows which nodes it made ({@link #ids()}) and which of them the test removed from
 * the configuration ({@link #removed()}); {@link #members()} is the rest, the nodes faults pick from
 * and that {@link #healAll()} brings back.
 */
final class ProcessCluster implements AutoCloseable {
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "kill-flotilla-nodes"));
    }

    /**
     * How the nodes are run. {@code extraArgs} go to every node (e.g. --no-fsync, --election-ticks);
     * {@code certs}, if not null, is what {@code bin/flotilla-certs} wrote: nodes, clients and the
     * command line then speak TLS; with {@code resp}, every node also has a Redis port (--resp-port).
     */
    record Options(int size, boolean proxies, List<String> extraArgs, Path certs, boolean resp) {
        Options {
            extraArgs = List.copyOf(extraArgs);
        }

        Options(int size, boolean proxies, List<String> extraArgs, Path certs) {
            this(size, proxies, extraArgs, certs, false);
        }

        Options(int size, boolean proxies, List<String> extraArgs) {
            this(size, proxies, extraArgs, null, false);
        }

        Options withResp() {
            return new Options(size, proxies, extraArgs, certs, true);
        }
    }

    private final Path dir;
    private final Options options;
    private final Map<Integer, Integer> ports = new ConcurrentHashMap<>();
    private final Map<Integer, Integer> respPorts = new ConcurrentHashMap<>();
    private final Map<Integer, NodeProxy> proxies = new ConcurrentHashMap<>();
    /** Nodes that join an existing cluster, and the member address each was told to contact. */
    private final Map<Integer, String> joinVia = new ConcurrentHashMap<>();
    private final Set<Integer> removed = ConcurrentHashMap.newKeySet();
    /** Nodes made by {@link #newNode} and not yet added: clients are not told about them. */
    private final Set<Integer> pending = ConcurrentHashMap.newKeySet();
    private final Map<Integer, Process> processes = new ConcurrentHashMap<>();
    private final Map<Integer, Boolean> paused = new ConcurrentHashMap<>();
    private FlotillaClient control; // guarded by this
    private List<InetSocketAddress> controlNodes = List.of(); // guarded by this

    ProcessCluster(Path dir, Options options) throws IOException {
        this.dir = dir;
        this.options = options;
        for (int id = 1; id <= options.size(); id++) {
            allocate(id);
        }
    }

    private void allocate(int id) throws IOException {
        int port = TestPorts.next();
        ports.put(id, port);
        if (options.resp()) {
            respPorts.put(id, TestPorts.next());
        }
        if (options.proxies()) {
            proxies.put(id, new NodeProxy(id, port));
        }
    }

    /**
     * Makes a node that will join the running cluster (not started yet): the next unused id, a port
     * and, with proxies, a proxy in front of it. Ids are never reused, as the cluster demands.
     */
    synchronized int newNode(int via) throws IOException {
        int id = ports.keySet().stream().max(Integer::compare).orElse(0) + 1;
        allocate(id);
        joinVia.put(id, address(via));
        pending.add(id);
        return id;
    }

    /** Every node this cluster made, removed ones included, in ascending order. */
    SortedSet<Integer> ids() {
        return new TreeSet<>(ports.keySet());
    }

    /** The nodes not removed: founders and added nodes, running or not. */
    SortedSet<Integer> members() {
        SortedSet<Integer> m = ids();
        m.removeAll(removed);
        return m;
    }

    SortedSet<Integer> removed() {
        return new TreeSet<>(removed);
    }

    /** Records that {@code id} left the configuration: it is no longer restarted or picked by faults. */
    void markRemoved(int id) {
        removed.add(id);
        pending.remove(id);
    }

    /** Records that a node made by {@link #newNode} is in the configuration: clients may use it. */
    void markAdded(int id) {
        pending.remove(id);
    }

    /** The members clients are told about: those not waiting to be added. */
    SortedSet<Integer> serving() {
        SortedSet<Integer> m = members();
        m.removeAll(pending);
        return m;
    }

    int port(int id) {
        return ports.get(id);
    }

    /** Node {@code id}'s Redis port (with {@link Options#withResp}). */
    int respPort(int id) {
        return respPorts.get(id);
    }

    /** Where peers reach node {@code id}: its proxy if there are proxies, else its port. */
    String address(int id) {
        return "127.0.0.1:" + (options.proxies() ? proxies.get(id).port() : ports.get(id));
    }

    /** The real address of node {@code id}, for clients. */
    String clientAddress(int id) {
        return "127.0.0.1:" + ports.get(id);
    }

    /** "host:port,..." of the real port of every member clients are told about, for {@code --cluster}. */
    String clientCluster() {
        return String.join(",", serving().stream().map(this::clientAddress).toList());
    }

    Path dataDir(int id) {
        return dir.resolve("node-" + id);
    }

    /** Client options naming the real port of every member clients are told about; short timeouts so that faults show as failures quickly. */
    ClientOptions clientOptions() {
        List<InetSocketAddress> nodes = new ArrayList<>();
        serving().forEach(id -> nodes.add(new InetSocketAddress("127.0.0.1", ports.get(id))));
        Path certs = options.certs();
        return ClientOptions.defaults().withCluster(nodes).withDeadline(Duration.ofSeconds(3))
                .withAttemptTimeout(Duration.ofSeconds(1)).withConnectTimeout(Duration.ofMillis(500))
                .withRetry(new RetryPolicy(16, Duration.ofMillis(20), Duration.ofMillis(250)))
                .withLeaderCheckInterval(Duration.ofMillis(500))
                .withTls(certs == null ? ClientTls.NONE
                        : new ClientTls(certs.resolve("ca.pem"), certs.resolve("client.pem"), certs.resolve("client.key")));
    }

    /** Client options naming only node {@code id}: requests go there and nowhere else. */
    ClientOptions clientOptionsFor(int id) {
        return clientOptions().withCluster(List.of(new InetSocketAddress("127.0.0.1", ports.get(id))));
    }

    /** What node {@code id} says about itself, if it answers within a second. */
    Optional<NodeStatus> status(int id) {
        try (FlotillaClient c = FlotillaClient.create(clientOptionsFor(id).withDeadline(Duration.ofSeconds(1)))) {
            return c.statusAsync().get(3, TimeUnit.SECONDS).nodes().get(0).status();
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    /** The founders' peer list, the same on every founder: every founder at the address its peers use. */
    private String founders() {
        List<String> parts = new ArrayList<>();
        for (int id = 1; id <= options.size(); id++) {
            parts.add(id + "=" + address(id));
        }
        return String.join(",", parts);
    }

    void startAll() throws IOException {
        for (int id = 1; id <= options.size(); id++) {
            start(id);
        }
    }

    /**
     * Starts (or restarts, on the same data directory and port) node {@code id}: a founder with the
     * founders' {@code --peers}, a node made by {@link #newNode} with {@code --join}.
     */
    void start(int id) throws IOException {
        start(id, joinVia.get(id));
    }

    /**
     * Starts node {@code id} with {@code --join join} if {@code join} is not null (a founder too: as
     * an operator might start a founder whose disk was lost), else with the founders' {@code --peers}.
     */
    void start(int id, String join) throws IOException {
        if (isRunning(id)) {
            throw new IllegalStateException("node " + id + " is already running");
        }
        Path script = Path.of("..", "bin", "flotilla-server").toAbsolutePath().normalize();
        List<String> cmd = new ArrayList<>(List.of(script.toString(), "--id", String.valueOf(id), "--port",
                String.valueOf(ports.get(id))));
        if (join != null) {
            cmd.addAll(List.of("--join", join));
        } else {
            cmd.addAll(List.of("--peers", founders()));
        }
        cmd.addAll(List.of("--data-dir", dataDir(id).toString(), "--cluster-id", "faults", "--http-port", "0"));
        if (options.resp()) {
            cmd.addAll(List.of("--resp-port", String.valueOf(respPorts.get(id))));
        }
        if (options.certs() != null) {
            Path certs = options.certs();
            cmd.addAll(List.of("--tls-cert", certs.resolve("node-" + id + ".pem").toString(),
                    "--tls-key", certs.resolve("node-" + id + ".key").toString(), "--tls-ca", certs.resolve("ca.pem").toString()));
        }
        cmd.addAll(options.extraArgs());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(id).toFile())).start();
        LIVE.add(p);
        processes.put(id, p);
        paused.put(id, false);
        p.onExit().thenAccept(LIVE::remove);
    }

    /** Deletes node {@code id}'s data directory (the node must be stopped): a lost disk. */
    void wipe(int id) throws IOException {
        if (isRunning(id)) {
            throw new IllegalStateException("node " + id + " is running");
        }
        Path data = dataDir(id);
        if (Files.exists(data)) {
            try (var walk = Files.walk(data)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    Path log(int id) {
        return dir.resolve("node-" + id + ".log");
    }

    String logText(int id) {
        try {
            return Files.readString(log(id));
        } catch (IOException e) {
            return "";
        }
    }

    boolean isRunning(int id) {
        Process p = processes.get(id);
        return p != null && p.isAlive();
    }

    /** The exit status of node {@code id}'s last process, once it exited by itself (not killed by the test). */
    Optional<Integer> exitCode(int id) {
        Process p = processes.get(id);
        return p != null && !p.isAlive() ? Optional.of(p.exitValue()) : Optional.empty();
    }

    /** Waits until node {@code id}'s process exits by itself; its status, or empty if it still runs. */
    Optional<Integer> awaitExit(int id, Duration timeout) throws InterruptedException {
        Process p = processes.get(id);
        if (p == null) {
            return Optional.empty();
        }
        return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? Optional.of(p.exitValue()) : Optional.empty();
    }

    boolean isPaused(int id) {
        return paused.getOrDefault(id, false);
    }

    /** SIGKILL, and waits until the process is gone. */
    void kill(int id) throws InterruptedException {
        Process p = processes.remove(id);
        if (p != null) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            LIVE.remove(p);
        }
        paused.put(id, false);
    }

    /** SIGTERM: a graceful shutdown. Returns whether the process exited within the timeout. */
    boolean terminate(int id, Duration timeout) throws InterruptedException {
        Process p = processes.get(id);
        if (p == null) {
            return true;
        }
        p.destroy();
        boolean exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (exited) {
            processes.remove(id);
            LIVE.remove(p);
        }
        return exited;
    }

    /** SIGSTOP: the process freezes with its sockets open. */
    void pause(int id) throws IOException, InterruptedException {
        signal(id, "-STOP");
        paused.put(id, true);
    }

    /** SIGCONT. */
    void resume(int id) throws IOException, InterruptedException {
        if (isPaused(id)) {
            signal(id, "-CONT");
            paused.put(id, false);
        }
    }

    long pid(int id) {
        return processes.get(id).pid();
    }

    private void signal(int id, String sig) throws IOException, InterruptedException {
        Process p = processes.get(id);
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException("node " + id + " is not running"
                    + (p == null ? "" : " (exited with " + p.exitValue() + "); its log ends:\n" + tail(id, 30)));
        }
        Process kill = new ProcessBuilder("kill", sig, String.valueOf(p.pid())).redirectErrorStream(true).start();
        if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill " + sig + " " + p.pid() + " failed");
        }
    }

    /** The proxy carrying traffic from node {@code from} to node {@code to}. */
    LinkProxy link(int from, int to) {
        if (!options.proxies()) {
            throw new IllegalStateException("this cluster runs without proxies");
        }
        return proxies.get(to).link(from);
    }

    /** Every directed link between two nodes this cluster made (made on first use, so that a cut covers them all). */
    List<LinkProxy> links() {
        List<LinkProxy> all = new ArrayList<>();
        if (!options.proxies()) {
            return all;
        }
        for (int from : ids()) {
            for (int to : ids()) {
                if (from != to) {
                    all.add(link(from, to));
                }
            }
        }
        return all;
    }

    /** Cuts every link between a node of {@code side} and a node outside it, both directions. */
    void partition(Set<Integer> side, LinkProxy.Mode how) {
        for (LinkProxy l : links()) {
            if (side.contains(l.from()) != side.contains(l.to())) {
                l.cut(how);
            }
        }
    }

    void healNetwork() {
        links().forEach(LinkProxy::heal);
    }

    /** Resumes paused members, restarts dead ones and heals the network. */
    void healAll() throws IOException, InterruptedException {
        for (int id : members()) {
            if (isPaused(id)) {
                resume(id);
            }
            if (!isRunning(id)) {
                start(id);
            }
        }
        if (options.proxies()) {
            healNetwork();
        }
    }

    /** A client for status queries naming every member; remade when the members change. */
    private synchronized FlotillaClient control() {
        List<InetSocketAddress> nodes = clientOptions().cluster();
        if (control == null || !nodes.equals(controlNodes)) {
            if (control != null) {
                control.close();
            }
            control = FlotillaClient.create(clientOptions().withDeadline(Duration.ofMillis(800))
                    .withAttemptTimeout(Duration.ofMillis(800)).withConnectTimeout(Duration.ofMillis(300)));
            controlNodes = nodes;
        }
        return control;
    }

    /** What every member says about itself now; unreachable nodes are absent. */
    Map<Integer, NodeStatus> statuses() {
        Map<Integer, NodeStatus> out = new TreeMap<>();
        try {
            ClusterStatus s = control().statusAsync().get(2, TimeUnit.SECONDS);
            s.nodes().forEach(n -> n.status().ifPresent(st -> out.put(st.nodeId(), st)));
        } catch (Exception e) {
            // nobody answered in time
        }
        return out;
    }

    /** The node that says it leads in the newest term, if any answers so. */
    Optional<Integer> leader() {
        return statuses().values().stream().filter(s -> "LEADER".equals(s.role()))
                .max(Comparator.comparingLong(NodeStatus::term)).map(NodeStatus::nodeId);
    }

    /** Polls until some node leads, up to {@code timeout}. */
    Optional<Integer> awaitLeader(Duration timeout) {
        Poll.within(timeout, () -> leader().isPresent());
        return leader();
    }

    /** Runs {@code bin/flotilla-client -o json --cluster <every member> ARGS...}. */
    Cli.Result cli(Duration timeout, String... args) throws IOException, InterruptedException {
        Path certs = options.certs();
        if (certs == null) {
            return Cli.run(clientCluster(), timeout, args);
        }
        List<String> withTls = new ArrayList<>(List.of("--tls-ca", certs.resolve("ca.pem").toString(),
                "--tls-cert", certs.resolve("client.pem").toString(), "--tls-key", certs.resolve("client.key").toString()));
        withTls.addAll(List.of(args));
        return Cli.run(clientCluster(), timeout, withTls.toArray(String[]::new));
    }

    /** Copies every node's log to {@code target}, so that they outlive the temporary directory. */
    void keepLogs(Path target) {
        try {
            Files.createDirectories(target);
            for (int id : ids()) {
                if (Files.exists(log(id))) {
                    Files.copy(log(id), target.resolve("node-" + id + ".log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            System.out.println("[faults] could not keep the node logs: " + e);
        }
    }

    /** The last {@code lines} lines of a node's log, for failure reports. */
    String tail(int id, int lines) {
        try {
            List<String> all = Files.readAllLines(log(id));
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        for (Process p : processes.values()) {
            p.destroyForcibly(); // SIGKILL also ends a stopped process
        }
        for (Process p : processes.values()) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            LIVE.remove(p);
        }
        processes.clear();
        proxies.values().forEach(NodeProxy::close);
        synchronized (this) {
            if (control != null) {
                control.close();
            }
        }
    }
}
