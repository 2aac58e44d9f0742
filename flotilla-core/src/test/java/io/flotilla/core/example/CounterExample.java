import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.Codec;
import io.flotilla.core.LocalNetwork;
import io.flotilla.core.MemoryStorage;
import io.flotilla.core.NotLeaderException;
import io.flotilla.core.RaftRuntime;
import io.flotilla.core.StateMachine;
import io.flotilla.core.Storage;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;

public class CounterExample {
    /** The one command: add to the counter. Commands are written to the log. */
    record Add(long amount) {}

    /** The replicated state. apply() must be deterministic; it runs on the node's own thread. */
    static final class Counter implements StateMachine<Add, String, Long> {
        private long value;

        @Override public Long apply(long index, Add command) { return value += command.amount(); }
        @Override public Long query(String name) { return value; }
        @Override public Snapshot snapshot() { long v = value; return out -> new DataOutputStream(out).writeLong(v); }
        @Override public void restore(InputStream in) throws IOException { value = new DataInputStream(in).readLong(); }
    }

    /** How an Add goes into a log entry and comes back out. */
    static final Codec<Add> CODEC = new Codec<>() {
        @Override public Bytes encode(Add add) { return Bytes.wrap(ByteBuffer.allocate(8).putLong(add.amount()).array()); }
        @Override public Add decode(Bytes bytes) {
            if (bytes.length() != 8) throw new IllegalArgumentException("an Add is 8 bytes, got " + bytes.length());
            return new Add(ByteBuffer.wrap(bytes.toByteArray()).getLong());
        }
    };

    public static void main(String[] args) throws Exception {
        LocalNetwork network = new LocalNetwork();          // in-memory; flotilla-server has the TCP one
        ClusterConfig cluster = ClusterConfig.of(1, 2, 3);
        Map<Integer, RaftRuntime<Add, String, Long>> nodes = new HashMap<>();
        for (int id : cluster.voters()) {
            Storage storage = new MemoryStorage();
            storage.bootstrap(cluster);                      // every founding node starts from the same config
            nodes.put(id, RaftRuntime.start(RaftRuntime.Options.defaults(id), new Counter(), CODEC, storage,
                    network.transport(id)));
        }
        int target = 1;
        for (int attempt = 0; ; attempt++) {
            try {
                nodes.get(target).propose(new Add(5)).get();
                System.out.println("counter = " + nodes.get(target).read("value").get());
                break;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof NotLeaderException notLeader) || attempt == 100) throw e;
                if (notLeader.leader() != 0) target = notLeader.leader();   // follow the redirect
                else Thread.sleep(50);                                       // no leader yet: election running
            }
        }
        nodes.values().forEach(RaftRuntime::close);
    }
}
