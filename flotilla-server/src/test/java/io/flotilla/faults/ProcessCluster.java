package io.flotilla.faults;

import io.flotilla.client.ClientOptions;
import io.flotilla.client.ClusterStatus;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.RetryPolicy;
import io.flotilla.client.wire.NodeStatus;
import io.flotilla.server.TestPorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A cluster of real server processes started with {@code bin/flotilla-server}, as the README starts
 * them. With proxies, every directed peer link i->j goes through its own {@link LinkProxy}: node i's
 * {@code --peers} names node j at the proxy's port. Clients talk to the nodes' real ports directly.
 * Every process started is also registered with a JVM shutdown hook that kills it.
 */
final class ProcessCluster implements AutoCloseable {
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "kill-flotilla-nodes"));
    }

    /** How the nodes are run. {@code extraArgs} go to every node (e.g. --no-fsync, --election-ticks). */
    record Options(int size, boolean proxies, List<String> extraArgs) {
        Options {
            extraArgs = List.copyOf(extraArgs);
        }
    }

    private final Path dir;
    private final Options options;
    private final Map<Integer, Integer> ports = new TreeMap<>();
    private final Map<Integer, Process> processes = new ConcurrentHashMap<>();
    private final Map<Integer, Boolean> paused = new ConcurrentHashMap<>();
    private final Map<Integer, Map<Integer, LinkProxy>> links = new TreeMap<>(); // from -> to -> proxy
    private final FlotillaClient control;

    ProcessCluster(Path dir, Options options) throws IOException {
        this.dir = dir;
        this.options = options;
        for (int id = 1; id <= options.size(); id++) {
            ports.put(id, TestPorts.next());
        }
        if (options.proxies()) {
            for (int from : ports.keySet()) {
                for (int to : ports.keySet()) {
                    if (from != to) {
                        links.computeIfAbsent(from, k -> new TreeMap<>()).put(to, new LinkProxy(from, to, ports.get(to)));
                    }
                }
            }
        }
        control = FlotillaClient.create(clientOptions().withDeadline(Duration.ofMillis(800))
                .withAttemptTimeout(Duration.ofMillis(800)).withConnectTimeout(Duration.ofMillis(300)));
    }

    Set<Integer> ids() {
        return ports.keySet();
    }

    /** Client options naming every node's real port; short timeouts so that faults show as failures quickly. */
    ClientOptions clientOptions() {
        List<InetSocketAddress> nodes = new ArrayList<>();
        ports.values().forEach(p -> nodes.add(new InetSocketAddress("127.0.0.1", p)));
        return ClientOptions.defaults().withCluster(nodes).withDeadline(Duration.ofSeconds(3))
                .withAttemptTimeout(Duration.ofSeconds(1)).withConnectTimeout(Duration.ofMillis(500))
                .withRetry(new RetryPolicy(16, Duration.ofMillis(20), Duration.ofMillis(250)))
                .withLeaderCheckInterval(Duration.ofMillis(500));
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

    /** Node {@code id}'s peer list: itself at its real port, every other node at the proxy for that link. */
    private String peersOf(int id) {
        List<String> parts = new ArrayList<>();
        ports.forEach((other, port) -> {
            int p = other == id || !options.proxies() ? port : links.get(id).get(other).port();
            parts.add(other + "=127.0.0.1:" + p);
        });
        return String.join(",", parts);
    }

    void startAll() throws IOException {
        for (int id : ports.keySet()) {
            start(id);
        }
    }

    /** Starts (or restarts, on the same data directory and port) node {@code id}. */
    void start(int id) throws IOException {
        if (isRunning(id)) {
            throw new IllegalStateException("node " + id + " is already running");
        }
        Path script = Path.of("..", "bin", "flotilla-server").toAbsolutePath().normalize();
        List<String> cmd = new ArrayList<>(List.of(script.toString(), "--id", String.valueOf(id), "--port",
                String.valueOf(ports.get(id)), "--peers", peersOf(id), "--data-dir", dir.resolve("node-" + id).toString(),
                "--cluster-id", "faults"));
        cmd.addAll(options.extraArgs());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(id).toFile())).start();
        LIVE.add(p);
        processes.put(id, p);
        paused.put(id, false);
    }

    Path log(int id) {
        return dir.resolve("node-" + id + ".log");
    }

    boolean isRunning(int id) {
        Process p = processes.get(id);
        return p != null && p.isAlive();
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
        return links.get(from).get(to);
    }

    /** Every proxy. */
    List<LinkProxy> links() {
        List<LinkProxy> all = new ArrayList<>();
        links.values().forEach(m -> all.addAll(m.values()));
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

    /** Resumes paused nodes, restarts dead ones and heals the network. */
    void healAll() throws IOException, InterruptedException {
        for (int id : ports.keySet()) {
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

    /** What every node says about itself now; unreachable nodes are absent. */
    Map<Integer, NodeStatus> statuses() {
        Map<Integer, NodeStatus> out = new TreeMap<>();
        try {
            ClusterStatus s = control.statusAsync().get(2, TimeUnit.SECONDS);
            s.nodes().forEach(n -> n.status().ifPresent(st -> out.put(st.nodeId(), st)));
        } catch (Exception e) {
            // nobody answered in time
        }
        return out;
    }

    /** The node that says it leads in the newest term, if any answers so. */
    Optional<Integer> leader() {
        return statuses().values().stream().filter(s -> "LEADER".equals(s.role()))
                .max(java.util.Comparator.comparingLong(NodeStatus::term)).map(NodeStatus::nodeId);
    }

    /** Polls until some node leads, up to {@code timeout}. */
    Optional<Integer> awaitLeader(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Integer> l = leader();
            if (l.isPresent()) {
                return l;
            }
            Thread.sleep(50);
        }
        return Optional.empty();
    }

    /** Copies every node's log to {@code target}, so that they outlive the temporary directory. */
    void keepLogs(Path target) {
        try {
            Files.createDirectories(target);
            for (int id : ports.keySet()) {
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
        links().forEach(LinkProxy::close);
        control.close();
    }
}
