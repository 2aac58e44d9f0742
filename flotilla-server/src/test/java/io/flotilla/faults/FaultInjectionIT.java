package io.flotilla.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.FlotillaClient;
import io.flotilla.client.Poll;
import io.flotilla.core.check.CheckResult;
import io.flotilla.core.check.Outcome;
import io.flotilla.server.tls.DevCertificates;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults against real server processes: kills, pauses and partitions (through a {@link LinkProxy}
 * on every directed peer link) while {@link HistoryRecorder} clients read, write and CAS; each run
 * must be linearizable, lose no acknowledged write, and serve again once healed.
 *
 * <p>System properties: {@code faults.duration} (per schedule, e.g. {@code 45s}, {@code 30m},
 * {@code 2h}; default 35s), {@code faults.seed} (replays a schedule), {@code faults.clients} (5).
 */
class FaultInjectionIT {
    private static final Duration DEFAULT_DURATION = Duration.ofSeconds(35);
    private static final Duration SERVE_AGAIN_BOUND = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private ProcessCluster cluster;
    private HistoryRecorder recorder;

    @AfterEach
    void stopEverything(TestInfo test) {
        if (recorder != null) {
            recorder.close();
        }
        if (cluster != null) {
            cluster.close();
            cluster.keepLogs(Path.of("target", "faults-logs", test.getTestMethod().orElseThrow().getName()));
        }
    }

    @Test
    void killTheLeaderRepeatedly(TestInfo test) throws Exception {
        run(test, FaultKind.KILL_LEADER);
    }

    @Test
    void pauseNodes(TestInfo test) throws Exception {
        run(test, FaultKind.PAUSE_LEADER, FaultKind.PAUSE_RANDOM);
    }

    @Test
    void partitionTheLeader(TestInfo test) throws Exception {
        run(test, FaultKind.ISOLATE_LEADER);
    }

    @Test
    void mixedFaults(TestInfo test) throws Exception {
        run(test, FaultKind.withoutMembership());
    }

    /** Kills, pauses and partitions with TLS on every connection: peers, relays and clients. */
    @Test
    void mixedFaultsOverTls(TestInfo test) throws Exception {
        Path certs = dir.resolve("certs");
        assertThat(DevCertificates.commandLine().execute("3", "--dir", certs.toString())).as("bin/flotilla-certs 3").isZero();
        run(test, new ProcessCluster.Options(3, true, List.of(), certs), FaultKind.withoutMembership());
    }

    /**
     * Kills, pauses and partitions while the clients speak Redis (Jedis on the nodes' Redis ports):
     * the node retries a connection's commands across leader changes, and the history must be
     * linearizable like the client library's.
     */
    @Test
    void mixedFaultsOverRedis(TestInfo test) throws Exception {
        run(test, new ProcessCluster.Options(3, true, List.of()).withResp(), FaultKind.withoutMembership());
    }

    /**
     * Membership changes as an operator makes them with {@code bin/flotilla-client member ...}
     * (replace a follower by a fresh node under a new id, add a learner and promote it, remove a
     * follower, remove the leader), mixed with kills and partitions. Besides the checks of every
     * schedule: each removed node exits by itself with status 0, and the final configuration is the
     * one the changes made.
     */
    @Test
    void membershipChanges(TestInfo test) throws Exception {
        // Membership changes drawn twice as often as the others: 8 of 12.
        run(test, FaultKind.REPLACE_FOLLOWER, FaultKind.REPLACE_FOLLOWER, FaultKind.ADD_LEARNER, FaultKind.ADD_LEARNER,
                FaultKind.REMOVE_LEADER, FaultKind.REMOVE_LEADER, FaultKind.REMOVE_FOLLOWER, FaultKind.REMOVE_FOLLOWER,
                FaultKind.KILL_LEADER, FaultKind.KILL_RANDOM, FaultKind.ISOLATE_LEADER, FaultKind.SPLIT);
    }

    /**
     * The proxies really carry all peer traffic: once every link of the leader is cut, its proxies
     * forward nothing, the others elect a new leader and commit without it, it steps down, and
     * a write sent to it never takes effect; after healing it catches up through the proxies.
     */
    @Test
    void anIsolatedLeaderIsCutOffStepsDownAndCatchesUpAfterHealing() throws Exception {
        cluster = new ProcessCluster(dir, new ProcessCluster.Options(3, true, List.of()));
        cluster.startAll();
        int old = cluster.awaitLeader(Duration.ofSeconds(30)).orElseThrow(() -> new AssertionError("no leader"));
        long oldTerm = cluster.status(old).orElseThrow().term();
        try (FlotillaClient majority = FlotillaClient.create(cluster.clientOptions());
             FlotillaClient isolated = FlotillaClient.create(cluster.clientOptionsFor(old).withDeadline(Duration.ofSeconds(2)))) {
            majority.set("before", "1");
            List<LinkProxy> oldLinks = cluster.links().stream().filter(l -> l.from() == old || l.to() == old).toList();
            assertThat(oldLinks).allSatisfy(l -> assertThat(l.forwardedBytes()).as("%s", l).isPositive());

            cluster.partition(Set.of(old), LinkProxy.Mode.REFUSE);
            long[] cutAt = oldLinks.stream().mapToLong(LinkProxy::forwardedBytes).toArray();
            long othersAtCut = otherBytes(old);
            assertThat(Poll.within(Duration.ofSeconds(10), () -> cluster.statuses().values().stream()
                    .anyMatch(s -> s.nodeId() != old && "LEADER".equals(s.role()) && s.term() > oldTerm)))
                    .as("the majority elects a new leader").isTrue();
            majority.set("during", "2");
            assertThat(Poll.within(Duration.ofSeconds(10), () -> cluster.status(old).map(s -> !"LEADER".equals(s.role())).orElse(false)))
                    .as("the isolated leader steps down: %s", cluster.status(old)).isTrue();
            boolean refused;
            try {
                isolated.set("isolated", "3");
                refused = false;
            } catch (RuntimeException e) {
                refused = true;
            }
            assertThat(refused).as("a write through the isolated node cannot commit").isTrue();
            // The isolated node kept trying its peers all along; once the majority's links carried more
            // traffic (heartbeats) since then, the cut links must still have forwarded nothing.
            long othersNow = otherBytes(old);
            Poll.until("the majority's links carry traffic", () -> otherBytes(old) > othersNow);
            for (int i = 0; i < oldLinks.size(); i++) {
                assertThat(oldLinks.get(i).forwardedBytes()).as("%s forwards nothing once cut", oldLinks.get(i)).isEqualTo(cutAt[i]);
            }
            assertThat(othersNow).as("the majority's links carried traffic during the cut").isGreaterThan(othersAtCut);

            cluster.healNetwork();
            assertThat(Poll.within(Duration.ofSeconds(20), () -> {
                try {
                    return isolated.get("during", io.flotilla.client.ReadConsistency.STALE).equals(Optional.of("2"));
                } catch (RuntimeException e) {
                    return false;
                }
            })).as("the healed node catches up through the proxies").isTrue();
            assertThat(majority.get("isolated")).as("the write sent to the isolated leader never took effect").isEmpty();
            // It can catch up from the leader's messages alone, before its own links have reconnected
            // (backoff up to 2 s): wait for traffic on every link rather than expect it at once.
            assertThat(Poll.within(Duration.ofSeconds(10), () -> oldLinks.stream()
                    .allMatch(l -> l.forwardedBytes() > cutAt[oldLinks.indexOf(l)])))
                    .as("every link of the healed node carries traffic again: %s", oldLinks).isTrue();
        }
    }

    /** The member list, or empty while no node answers it. */
    private static Optional<Cli.Result> memberList(Nemesis nemesis) {
        try {
            return nemesis.memberList();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private long otherBytes(int node) {
        return cluster.links().stream().filter(l -> l.from() != node && l.to() != node).mapToLong(LinkProxy::forwardedBytes).sum();
    }


    static Duration duration() {
        String s = System.getProperty("faults.duration", "").trim();
        if (s.isEmpty()) {
            return DEFAULT_DURATION;
        }
        long n = Long.parseLong(s.replaceAll("[^0-9]", ""));
        return s.endsWith("h") ? Duration.ofHours(n) : s.endsWith("m") ? Duration.ofMinutes(n)
                : s.endsWith("ms") ? Duration.ofMillis(n) : Duration.ofSeconds(n);
    }

    static long seed() {
        String s = System.getProperty("faults.seed", "").trim();
        return s.isEmpty() ? new SecureRandom().nextLong() & Long.MAX_VALUE : Long.parseLong(s);
    }

    /** Nodes run with fsync on and default timings, as the README starts them. */
    private void run(TestInfo test, FaultKind... kinds) throws Exception {
        run(test, new ProcessCluster.Options(3, true, List.of()), kinds);
    }

    private void run(TestInfo test, ProcessCluster.Options options, FaultKind... kinds) throws Exception {
        String name = test.getTestMethod().orElseThrow().getName();
        FaultSchedule schedule = FaultSchedule.of(name, duration(), seed(), kinds);
        String replay = "./mvnw -pl flotilla-server -am verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false"
                + " -Dit.test=FaultInjectionIT#" + name + " -Dfaults.seed=" + schedule.seed()
                + " -Dfaults.duration=" + schedule.duration().toSeconds() + "s";
        System.out.println("[faults] " + schedule + "; replay with " + replay);

        cluster = new ProcessCluster(dir, options);
        cluster.startAll();
        assertThat(cluster.awaitLeader(Duration.ofSeconds(30))).as("a first leader").isPresent();
        int clients = Integer.getInteger("faults.clients", 5);
        recorder = options.resp()
                // A Redis client waits for as long as the node retries (--request-timeout-ms, 5 s), and a margin.
                ? new HistoryRecorder(c -> new RegisterClient.Redis(cluster.ids().stream().map(cluster::respPort).toList(), c),
                        Duration.ofSeconds(8), clients, 4, 60, schedule.seed())
                : new HistoryRecorder(cluster::clientOptions, clients, 4, 60, schedule.seed());
        recorder.start();
        Nemesis nemesis = new Nemesis(cluster, recorder::now);
        schedule.run(nemesis);
        long endedAt = recorder.now();

        cluster.healAll();
        Verdict verdict = Verdict.reach(cluster, recorder, SERVE_AGAIN_BOUND);
        Summary summary = Summary.of(schedule, verdict.history(), nemesis.faults(), endedAt, verdict.check(), verdict.checkMillis(),
                verdict.finalWriteMs(), replay);
        System.out.println(summary);
        List<String> membership = new ArrayList<>(nemesis.problems());
        if (java.util.Arrays.stream(kinds).anyMatch(FaultKind::changesMembership)) {
            nemesis.changes().forEach(c -> System.out.println("[faults] " + c));
            membership.addAll(finalConfiguration(nemesis));
        }
        if (!verdict.good() || !membership.isEmpty()) {
            cluster.ids().forEach(id -> System.out.println("---- node " + id + " log tail\n" + cluster.tail(id, 40)));
        }
        assertThat(verdict.served()).as("the cluster serves a write and a read within %s of healing", SERVE_AGAIN_BOUND).isTrue();
        assertThat(verdict.unread()).as("keys whose final read never succeeded").isEmpty();
        assertThat(verdict.lost()).as("keys with acknowledged writes that read as absent at the end").isEmpty();
        assertThat(summary.count(Outcome.OK)).as("operations succeeded").isPositive();
        assertThat(verdict.check().verdict()).as("%s", verdict.check()).isEqualTo(CheckResult.Verdict.LINEARIZABLE);
        assertThat(membership).as("membership changes that did not do what they should").isEmpty();
    }

    /**
     * The configuration at the end is the one the changes made: the members the cluster keeps (every
     * one a voter once the last joining member caught up; waited for) and every removed id recorded.
     */
    private List<String> finalConfiguration(Nemesis nemesis) throws Exception {
        List<Optional<Cli.Result>> last = new ArrayList<>(List.of(Optional.empty()));
        Poll.within(SERVE_AGAIN_BOUND, () -> {
            Optional<Cli.Result> answer = memberList(nemesis);
            last.set(0, answer);
            return answer.map(l -> l.kinds().values().stream().allMatch("voter"::equals)
                    && l.kinds().keySet().equals(cluster.members())).orElse(false);
        });
        Optional<Cli.Result> list = last.get(0);
        System.out.println("[faults] final configuration: " + list.map(l -> l.json().toString()).orElse("(no member list)"));
        List<String> problems = new ArrayList<>();
        if (list.isEmpty()) {
            problems.add("member list never answered");
        } else {
            if (!list.get().kinds().keySet().equals(cluster.members())) {
                problems.add("members " + list.get().kinds() + ", expected " + cluster.members());
            }
            if (!list.get().kinds().values().stream().allMatch("voter"::equals)) {
                problems.add("not every member is a voter " + SERVE_AGAIN_BOUND.toSeconds() + " s after healing: " + list.get().kinds());
            }
            if (!list.get().removedIds().containsAll(cluster.removed())) {
                problems.add("removed ids " + list.get().removedIds() + " lack some of " + cluster.removed());
            }
        }
        return problems;
    }
}
