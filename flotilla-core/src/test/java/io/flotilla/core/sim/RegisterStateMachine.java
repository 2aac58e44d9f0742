package io.flotilla.core.sim;

import io.flotilla.core.StateMachine;
import io.flotilla.core.check.RegisterOp;
import io.flotilla.core.check.RegisterResult;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** Registers by key, as {@link io.flotilla.core.check.RegisterModel} specifies them. */
class RegisterStateMachine implements StateMachine<RegisterOp, RegisterOp.Read, RegisterResult> {
    /** Sorted, so snapshots of equal states are byte-identical. */
    private final TreeMap<String, String> values = new TreeMap<>();

    @Override
    public RegisterResult apply(long index, RegisterOp op) {
        if (op instanceof RegisterOp.Read r) {
            return query(r);
        } else if (op instanceof RegisterOp.Write w) {
            values.put(w.key(), w.value());
            return RegisterResult.OK;
        } else if (op instanceof RegisterOp.Cas c) {
            if (!Objects.equals(values.get(c.key()), c.expected())) {
                return RegisterResult.MISMATCH;
            }
            values.put(c.key(), c.value());
            return RegisterResult.OK;
        }
        throw new AssertionError(op);
    }

    @Override
    public RegisterResult query(RegisterOp.Read read) {
        return RegisterResult.value(values.get(read.key()));
    }

    /** Captures a copy, so the writer may run while later commands are applied to the live map. */
    @Override
    public Snapshot snapshot() {
        TreeMap<String, String> captured = new TreeMap<>(values);
        return out -> write(captured, out);
    }

    private static void write(TreeMap<String, String> values, OutputStream out) throws IOException {
        DataOutputStream data = new DataOutputStream(out);
        data.writeInt(values.size());
        for (Map.Entry<String, String> e : values.entrySet()) {
            data.writeUTF(e.getKey());
            data.writeUTF(e.getValue());
        }
        data.flush();
    }

    @Override
    public void restore(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        values.clear();
        int n = data.readInt();
        for (int i = 0; i < n; i++) {
            values.put(data.readUTF(), data.readUTF());
        }
    }
}
