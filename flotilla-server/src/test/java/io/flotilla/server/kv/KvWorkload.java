package io.flotilla.server.kv;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.Session;
import io.flotilla.core.Bytes;
import io.flotilla.core.Codec;
import io.flotilla.core.StateMachine;
import io.flotilla.core.check.Model;
import io.flotilla.core.sim.Submission;
import io.flotilla.core.sim.Workload;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Clients of the key-value store, as flotilla-client behaves: linearizable GETs, and SETs, DELETEs
 * and CASes of unique values on a few keys (so that operations contend), each write in its client's
 * session with the next sequence number, acknowledging every earlier one. A write whose answer is
 * lost is sent again, marked as a retry, stamped with the time it is sent: the session must answer
 * it from memory if the first attempt was applied. Sessions expire after {@link #SESSIONS}' timeout
 * of log time, shorter than a client's wait for an answer, so retries also find their session gone
 * (SESSION_EXPIRED: the outcome stays unknown).
 */
final class KvWorkload implements Workload<Request, KvCommand, Request.Read, Response> {
    /** Short sessions (virtual milliseconds): a client's timeout is 4 election timeouts, 160 to 600 ms. */
    static final SessionLimits SESSIONS = new SessionLimits(250, 1_000, 100, 10_000);
    private static final KvModel MODEL = new KvModel();
    private static final KvStoreModel STORE_MODEL = new KvStoreModel();
    private static final KvCodec CODEC = new KvCodec();

    private final Supplier<? extends StateMachine<KvCommand, Request.Read, Response>> stores;
    /** Also writes and reads of several keys at once, checked against the whole store ({@link KvStoreModel}). */
    private final boolean manyKeys;
    /** Per client, the sequence number of its next write. */
    private final Map<Integer, Long> nextSeq = new HashMap<>();
    private Bytes[] lastWritten;
    private int nextValue;

    KvWorkload() {
        this(() -> new KvStateMachine(SESSIONS));
    }

    /** With another store, for testing that a broken one is caught. */
    KvWorkload(Supplier<? extends StateMachine<KvCommand, Request.Read, Response>> stores) {
        this(stores, false);
    }

    private KvWorkload(Supplier<? extends StateMachine<KvCommand, Request.Read, Response>> stores, boolean manyKeys) {
        this.stores = stores;
        this.manyKeys = manyKeys;
    }

    /** Clients that also set, delete and read several keys in one command (MSET, DEL, MGET of the Redis port). */
    static KvWorkload withManyKeys() {
        return new KvWorkload(() -> new KvStateMachine(SESSIONS), true);
    }

    @Override
    public StateMachine<KvCommand, Request.Read, Response> newStateMachine() {
        return stores.get();
    }

    @Override
    public Codec<KvCommand> codec() {
        return CODEC;
    }

    @Override
    public Model<?, Request, Response> model() {
        return manyKeys ? STORE_MODEL : MODEL;
    }

    @Override
    public Request nextOperation(int client, SplittableRandom random) {
        if (lastWritten == null) {
            lastWritten = new Bytes[random.nextInt(1, 6)];
        }
        int k = random.nextInt(lastWritten.length);
        Bytes key = Bytes.utf8("k" + k);
        int dice = random.nextInt(100);
        if (dice < 35) {
            return manyKeys && dice < 15 ? new Request.GetMany(someKeys(random), false) : new Request.Get(key, false);
        }
        long seq = nextSeq.merge(client, 1L, Long::sum);
        Session session = new Session(client + 1, seq, seq); // one write at a time: every earlier one is answered
        if (manyKeys && dice < 55) {
            List<Bytes> keys = someKeys(random);
            if (dice < 42) {
                return new Request.DeleteMany(session, keys);
            }
            List<Request.KeyValue> entries = new ArrayList<>();
            for (Bytes named : keys) {
                Bytes v = Bytes.utf8("v" + nextValue++);
                lastWritten[Integer.parseInt(named.utf8().substring(1))] = v;
                entries.add(new Request.KeyValue(named, v));
            }
            return new Request.SetMany(session, entries);
        }
        if (dice < 45) {
            return new Request.Delete(session, key);
        }
        Bytes value = Bytes.utf8("v" + nextValue++);
        Bytes expected = lastWritten[k];
        lastWritten[k] = value;
        if (dice < 70) {
            return new Request.Set(session, key, value);
        }
        // Mostly the value last written (which may have been overwritten or deleted since), now and then absent.
        return new Request.Cas(session, key, dice < 90 ? Optional.ofNullable(expected) : Optional.empty(), value);
    }

    /** One to three of the keys, a key possibly named twice (as a client may). */
    private List<Bytes> someKeys(SplittableRandom random) {
        List<Bytes> keys = new ArrayList<>();
        for (int i = random.nextInt(1, 4); i > 0; i--) {
            keys.add(Bytes.utf8("k" + random.nextInt(lastWritten.length)));
        }
        return keys;
    }

    @Override
    public Submission<KvCommand, Request.Read> request(Request operation, long now) {
        return operation instanceof Request.Read r ? new Submission.Read<>(r)
                : new Submission.Propose<>(new KvCommand.Write(now, (Request.Write) operation));
    }

    @Override
    public Optional<Submission<KvCommand, Request.Read>> retry(Request operation, long now) {
        return Optional.of(new Submission.Propose<>(new KvCommand.Write(now, asRetry(operation))));
    }

    @Override
    public boolean outcomeUnknown(Request operation, Response result) {
        return result.code() == Response.Code.SESSION_EXPIRED;
    }

    private static Request.Write asRetry(Request operation) {
        Request.Write write = (Request.Write) operation; // only writes are retried through the log
        return write.withSession(write.session().asRetry());
    }
}
