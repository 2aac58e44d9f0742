package io.flotilla.core.sim;

import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Runs the seeded simulation over an application's {@link Workload}: for each seed, a cluster of 3
 * or 5 nodes running the production protocol on a simulated network and disk, in virtual time, with
 * faults drawn from the seed (crashes, crashes inside disk writes, partitions, lost, duplicated and
 * delayed messages, clock skew, leadership transfers, membership changes, a node that loses its
 * disk, snapshots and compaction). Raft's invariants are checked after every step, every replica
 * must give the same result for the same entry, every snapshot must hold the state the committed
 * log builds and restore to the same bytes; after the faults stop the cluster must make progress,
 * and finally the clients' history must be linearizable to the workload's model.
 *
 * <pre>{@code
 * Simulator.of(MyWorkload::new, 50).run(); // seeds 1..50, unless -Dsim.* says otherwise
 * }</pre>
 *
 * <p>{@link #run} throws {@link SimulationFailure} at the first failing seed, with the command that
 * replays it. System properties, read by {@link #of}: {@code -Dsim.seed=S} runs seed S alone;
 * {@code -Dsim.seeds=N} runs N seeds from {@code -Dsim.firstSeed} (default 1, or {@code random});
 * {@code -Dsim.steps} sets the steps of the fault phase; {@code -Dsim.trace=true} prints every event.
 *
 * @param workloads a fresh workload for each seed
 * @param steps     events per seed with faults on, before the liveness phase
 * @param trace     print every event (for replaying one seed)
 */
public record Simulator<I, C, Q, R>(Supplier<? extends Workload<I, C, Q, R>> workloads, long firstSeed, int seeds,
                                    long steps, boolean trace) {
    public static final long DEFAULT_STEPS = 20_000;

    public Simulator {
        if (seeds < 1 || steps < 0) {
            throw new IllegalArgumentException("seeds must be at least 1 and steps not negative: " + seeds + ", " + steps);
        }
    }

    /** Seeds 1 to {@code defaultSeeds}, {@link #DEFAULT_STEPS} each, unless the system properties say otherwise. */
    public static <I, C, Q, R> Simulator<I, C, Q, R> of(Supplier<? extends Workload<I, C, Q, R>> workloads, int defaultSeeds) {
        long steps = Long.getLong("sim.steps", DEFAULT_STEPS);
        boolean trace = Boolean.getBoolean("sim.trace");
        String one = System.getProperty("sim.seed");
        if (one != null) {
            return new Simulator<>(workloads, Long.parseLong(one.trim()), 1, steps, trace);
        }
        String from = System.getProperty("sim.firstSeed", "1").trim();
        long first = from.equals("random") ? System.nanoTime() & Long.MAX_VALUE : Long.parseLong(from);
        return new Simulator<>(workloads, first, Integer.getInteger("sim.seeds", defaultSeeds), steps, trace);
    }

    public Simulator<I, C, Q, R> withSeeds(long first, int count) {
        return new Simulator<>(workloads, first, count, steps, trace);
    }

    public Simulator<I, C, Q, R> withSteps(long count) {
        return new Simulator<>(workloads, firstSeed, seeds, count, trace);
    }

    /** Runs every seed, printing which and then the figures; throws {@link SimulationFailure} at the first that fails. */
    public SimulationReport run() {
        System.out.println("Simulating seeds " + firstSeed + ".." + (firstSeed + seeds - 1) + ", " + steps + " steps each");
        Simulation.Options options = new Simulation.Options(steps, false, trace, false);
        SimStats total = new SimStats();
        long start = System.nanoTime();
        for (long seed = firstSeed; seed < firstSeed + seeds; seed++) {
            total.add(Simulation.run(seed, workloads.get(), options));
        }
        SimulationReport report = SimulationReport.of(firstSeed, seeds, total, (System.nanoTime() - start) / 1_000_000);
        System.out.println("Simulation " + report + "\n  " + report.details());
        return report;
    }

    /**
     * The command that replays {@code seed}: the Maven test run of the JUnit test on the current
     * stack (found by its {@code @Test} annotation), in this module, with the seed's property.
     */
    static String replayCommand(long seed, long steps) {
        String property = "-Dsim.seed=" + seed + (steps == DEFAULT_STEPS ? "" : " -Dsim.steps=" + steps);
        Optional<String> test = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(frames -> frames
                .filter(f -> isTest(f.getDeclaringClass(), f.getMethodName()))
                .reduce((inner, outer) -> outer) // the outermost: the test method itself, not a helper of it
                .map(f -> f.getDeclaringClass().getSimpleName() + "#" + f.getMethodName()));
        if (test.isEmpty()) {
            return "the same Simulator .withSeeds(" + seed + "L, 1)" + (steps == DEFAULT_STEPS ? "" : ".withSteps(" + steps + ")")
                    + ".run(), or " + property;
        }
        Path module = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        Path parent = module.getParent();
        boolean multiModule = parent != null && Files.exists(parent.resolve("pom.xml"));
        Path root = multiModule ? parent : module;
        String maven = Files.exists(root.resolve("mvnw")) ? "./mvnw" : "mvn";
        return maven + (multiModule ? " -pl " + module.getFileName() : "") + " test -Dtest=" + test.get() + " " + property;
    }

    private static boolean isTest(Class<?> type, String method) {
        return Arrays.stream(type.getDeclaredMethods())
                .filter(m -> m.getName().equals(method))
                .map(Method::getAnnotations)
                .flatMap(Arrays::stream)
                .map(Annotation::annotationType)
                .anyMatch(a -> a.getName().equals("org.junit.jupiter.api.Test"));
    }
}
