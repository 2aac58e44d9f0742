package io.flotilla.core.sim;

import io.flotilla.core.Codec;
import io.flotilla.core.StateMachine;
import io.flotilla.core.check.Model;
import io.flotilla.core.check.RegisterModel;
import io.flotilla.core.check.RegisterOp;
import io.flotilla.core.check.RegisterResult;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Clients of a key-value store of registers: reads (mostly linearizable reads, some through the
 * log), writes of unique values, and compare-and-sets that expect a recently written value, over a
 * few keys so that operations contend.
 */
final class RegisterWorkload implements Workload<RegisterOp, RegisterOp, RegisterOp.Read, RegisterResult> {
    private static final RegisterModel MODEL = new RegisterModel();
    private static final RegisterCodec CODEC = new RegisterCodec();

    private final Supplier<RegisterStateMachine> stateMachines;
    /** The reads to send through the log rather than as ReadIndex reads (by identity). */
    private final Set<RegisterOp> readsThroughLog = Collections.newSetFromMap(new IdentityHashMap<>());
    private String[] lastWritten;
    private int nextValue;

    RegisterWorkload() {
        this(RegisterStateMachine::new);
    }

    /** With another state machine, for testing that a broken one is caught. */
    RegisterWorkload(Supplier<RegisterStateMachine> stateMachines) {
        this.stateMachines = stateMachines;
    }

    @Override
    public StateMachine<RegisterOp, RegisterOp.Read, RegisterResult> newStateMachine() {
        return stateMachines.get();
    }

    @Override
    public Codec<RegisterOp> codec() {
        return CODEC;
    }

    @Override
    public Model<?, RegisterOp, RegisterResult> model() {
        return MODEL;
    }

    @Override
    public RegisterOp nextOperation(int client, SplittableRandom random) {
        if (lastWritten == null) {
            lastWritten = new String[random.nextInt(1, 6)];
        }
        int k = random.nextInt(lastWritten.length);
        String key = "k" + k;
        int dice = random.nextInt(100);
        if (dice < 40) {
            RegisterOp.Read read = new RegisterOp.Read(key);
            if (dice < 5) {
                readsThroughLog.add(read);
            }
            return read;
        }
        String value = "v" + nextValue++;
        String expected = lastWritten[k];
        lastWritten[k] = value;
        return dice < 75 ? new RegisterOp.Write(key, value) : new RegisterOp.Cas(key, expected, value);
    }

    @Override
    public Submission<RegisterOp, RegisterOp.Read> request(RegisterOp op, long now) {
        if (op instanceof RegisterOp.Read r && !readsThroughLog.contains(r)) {
            return new Submission.Read<>(r);
        }
        return new Submission.Propose<>(op);
    }
}
