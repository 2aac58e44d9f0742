package io.flotilla.core;

import io.flotilla.core.message.Message;
import io.flotilla.core.protocol.RaftNode;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * The simulation's hold on a {@link NodeDriver}, which main keeps package-private (an embedder uses
 * {@link RaftRuntime}). Java has no friend packages, so this class in the test tree is the one
 * public door to the driver, for {@code io.flotilla.core.sim}; it is not API, and adds nothing but
 * the wiring the simulation needs.
 */
public final class SimulatedDriver<C, Q, R> {
    /** Receives the outcome of one proposal or read (as {@link NodeDriver.Callback}). */
    public interface Callback<R> {
        void complete(R result, long index);

        void fail(RuntimeException error);
    }

    private final NodeDriver<C, Q, R> driver;

    /**
     * A driver that writes snapshots on the spot and reports them to the node's thread through
     * {@code snapshotReports}, and writes each batch of entries on {@code diskWriter} (the simulation
     * runs it later in virtual time), reporting back at once.
     */
    public SimulatedDriver(RaftNode node, Storage storage, StateMachine<C, Q, R> stateMachine, Codec<C> codec,
                           Consumer<Message> send, long snapshotEvery, long snapshotTrail,
                           Consumer<Runnable> snapshotReports, Executor diskWriter) {
        this.driver = new NodeDriver<>(node, storage, stateMachine, codec, send, role -> { },
                new Snapshotting(snapshotEvery, snapshotTrail, Runnable::run, snapshotReports),
                new DiskWrites(diskWriter, Runnable::run), RaftMetrics.NONE);
    }

    public RaftNode node() {
        return driver.node();
    }

    public long appliedIndex() {
        return driver.appliedIndex();
    }

    public void tick() {
        driver.tick();
    }

    public void receive(Message message) {
        driver.receive(message);
    }

    public void propose(C command, Callback<R> callback) {
        driver.propose(command, adapt(callback));
    }

    public void read(Q query, Callback<R> callback) {
        driver.read(query, adapt(callback));
    }

    public void changeMembership(MembershipChange change, Callback<ClusterConfig> callback) {
        driver.changeMembership(change, adapt(callback));
    }

    /** Carries out the node's effects; call after every event. */
    public void process() {
        driver.process();
    }

    private static <T> NodeDriver.Callback<T> adapt(Callback<T> callback) {
        return new NodeDriver.Callback<>() {
            @Override
            public void complete(T result, long index) {
                callback.complete(result, index);
            }

            @Override
            public void fail(RuntimeException error) {
                callback.fail(error);
            }
        };
    }
}
