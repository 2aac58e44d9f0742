package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * The README's container path: docker-compose.yml describes three nodes that can find each other,
 * and the Dockerfile builds the image it names. The image itself is built only by .ci/run, where a
 * container tool works; the compose file is checked by docker compose wherever it is installed.
 */
@Timeout(120)
class ComposeFileTest {
    private static final Path ROOT = Path.of("..");
    private static final Path COMPOSE = ROOT.resolve("docker-compose.yml");
    private static final Path DOCKERFILE = ROOT.resolve("Dockerfile");

    /** The value of the Dockerfile's single {@code INSTRUCTION value} line. */
    private static String dockerfile(String instruction) throws IOException {
        List<String> found = Files.readAllLines(DOCKERFILE).stream().filter(l -> l.startsWith(instruction + " "))
                .map(l -> l.substring(instruction.length() + 1).strip()).toList();
        assertThat(found).as("one %s line in the Dockerfile", instruction).hasSize(1);
        return found.get(0);
    }

    @Test
    void threeNodesFindEachOtherByServiceNameOnUniquePortsEachWithItsOwnVolume() throws Exception {
        JsonNode compose = new YAMLMapper().readTree(COMPOSE.toFile());
        JsonNode services = compose.get("services");
        List<String> names = new ArrayList<>();
        services.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("node1", "node2", "node3");

        String dataVolume = dockerfile("VOLUME");
        assertThat(dockerfile("WORKDIR")).as("the default --data-dir (./data/node-<id>) is in the volume").isEqualTo(dataVolume);
        String readme = Files.readString(ROOT.resolve("README.md"));

        Map<Integer, String> serviceById = new TreeMap<>();
        Map<Integer, Integer> portById = new TreeMap<>();
        Set<Map<Integer, InetSocketAddress>> peerLists = new HashSet<>();
        Set<String> hostPorts = new HashSet<>();
        Set<String> volumes = new HashSet<>();
        for (String name : names) {
            JsonNode service = services.get(name);
            assertThat(service.get("image").asText()).as(name).isEqualTo("flotilla");
            assertThat(readme).as("the README builds the image the compose file runs").contains("docker build -t flotilla .");

            List<String> args = new ArrayList<>();
            service.get("command").forEach(a -> args.add(a.asText()));
            assertThat(args).as("%s keeps its data in the image's volume", name).doesNotContain("--data-dir");
            ServerCommand command = new ServerCommand();
            new CommandLine(command).parseArgs(args.toArray(String[]::new));
            ServerConfig config = command.resolve();
            assertThat(serviceById.put(config.nodeId(), name)).as("node ids are unique").isNull();
            assertThat(config.host()).as("%s binds and advertises its service name", name).isEqualTo(name);
            portById.put(config.nodeId(), config.port());
            peerLists.add(config.peers());

            // Published on the host's loopback at the same numbers: the node's port and its HTTP port.
            List<String> ports = new ArrayList<>();
            service.get("ports").forEach(p -> ports.add(p.asText()));
            assertThat(ports).as(name).containsExactlyInAnyOrder(
                    "127.0.0.1:" + config.port() + ":" + config.port(),
                    "127.0.0.1:" + config.admin().httpPort() + ":" + config.admin().httpPort());
            for (String p : ports) {
                assertThat(hostPorts.add(p.split(":")[1])).as("host port %s is published once", p).isTrue();
            }

            List<String> mounts = new ArrayList<>();
            service.get("volumes").forEach(v -> mounts.add(v.asText()));
            assertThat(mounts).as(name).hasSize(1);
            String[] mount = mounts.get(0).split(":");
            assertThat(mount[1]).as("%s mounts its volume at the image's data directory", name).isEqualTo(dataVolume);
            assertThat(volumes.add(mount[0])).as("each node has a volume of its own").isTrue();

            assertThat(service.get("environment").get("FLOTILLA_CLUSTER").asText()).as("the client in the container finds every node")
                    .isEqualTo("node1:5001,node2:5002,node3:5003");
        }
        assertThat(serviceById.keySet()).containsExactly(1, 2, 3);
        assertThat(peerLists).as("every node has the same peer list").hasSize(1);
        Map<Integer, InetSocketAddress> peers = peerLists.iterator().next();
        assertThat(peers.keySet()).containsExactlyInAnyOrder(1, 2, 3);
        peers.forEach((id, address) -> {
            assertThat(address.getHostString()).as("peer %d is named by its service", id).isEqualTo(serviceById.get(id));
            assertThat(address.getPort()).as("peer %d's port", id).isEqualTo(portById.get(id));
        });
        List<String> declared = new ArrayList<>();
        compose.get("volumes").fieldNames().forEachRemaining(declared::add);
        assertThat(declared).containsExactlyInAnyOrderElementsOf(volumes);
    }

    @Test
    void theDockerfileCopiesOnlyWhatTheBuildContextHolds() throws Exception {
        List<String> allowed = Files.readAllLines(ROOT.resolve(".dockerignore")).stream().filter(l -> l.startsWith("!"))
                .map(l -> l.substring(1)).toList();
        List<String> sources = new ArrayList<>();
        for (String line : Files.readAllLines(DOCKERFILE)) {
            if (line.startsWith("COPY ")) {
                String[] words = line.substring(5).strip().split("\\s+");
                sources.addAll(List.of(words).subList(0, words.length - 1));
            }
        }
        assertThat(sources).isNotEmpty();
        for (String source : sources) {
            assertThat(allowed).as(".dockerignore lets %s into the build context", source)
                    .anyMatch(a -> source.equals(a) || source.startsWith(a.endsWith("/") ? a : a + "/"));
            if (source.startsWith("docker/")) {
                assertThat(ROOT.resolve(source)).isExecutable();
            }
        }
        assertThat(dockerfile("USER")).as("the node does not run as root").isNotIn("root", "0");
        assertThat(dockerfile("ENTRYPOINT")).isEqualTo("[\"flotilla-server\"]");
    }

    @Test
    void dockerComposeAcceptsTheFile() throws Exception {
        List<String> tool = composeTool();
        if (tool == null) {
            String why = "neither 'docker compose' nor 'docker-compose' works here: docker-compose.yml was checked by its structure only";
            System.err.println("ComposeFileTest: SKIPPED " + why);
            Assumptions.abort(why);
        }
        List<String> check = new ArrayList<>(tool);
        check.addAll(List.of("-f", COMPOSE.toAbsolutePath().normalize().toString(), "config", "-q"));
        Result result = run(check);
        assertThat(result.exit()).as("%s said: %s", String.join(" ", check), result.output()).isZero();
    }

    private record Result(int exit, String output) {
    }

    /** "docker compose" (the plugin) or "docker-compose", whichever answers its version; null if neither. */
    private static List<String> composeTool() {
        for (List<String> tool : List.of(List.of("docker", "compose"), List.of("docker-compose"))) {
            List<String> version = new ArrayList<>(tool);
            version.add("version");
            try {
                if (run(version).exit() == 0) {
                    return tool;
                }
            } catch (IOException e) {
                // not installed
            }
        }
        return null;
    }

    private static Result run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out");
            }
            return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }
}
