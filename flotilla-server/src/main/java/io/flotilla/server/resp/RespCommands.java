package io.flotilla.server.resp;

import io.flotilla.client.wire.NodeStatus;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.Bytes;
import io.flotilla.server.resp.RespReply.Entry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The Redis commands Flotilla answers, each mapped onto the store's own requests: a write goes
 * through the log under the connection's session, a read is linearizable (ReadIndex) unless the
 * connection sent READONLY. Arity errors, syntax errors and unknown commands answer with Redis's
 * words and leave the connection open. docs/protocol.md lists what each command guarantees.
 */
final class RespCommands {
    /**
     * A command: its name, its arity as Redis counts it (n exactly, or -n for at least n, the name
     * included), how it is ordered, and what runs it (null for HELLO and QUIT, which RespConnection
     * answers itself). Looked up once per command read ({@link #lookup}).
     */
    record Command(String name, int arity, Order order, Handler handler) {
        /** The arity check, or empty if {@code args} fits. */
        Optional<RespReply> arityError(List<Bytes> args) {
            int n = args.size();
            boolean fits = arity >= 0 ? n == arity : n >= -arity;
            return fits ? Optional.empty() : Optional.of(RespReply.error("wrong number of arguments for '" + name + "' command"));
        }

        /** How {@code args} is ordered: SET with XX or GET reads before it writes. */
        Order order(List<Bytes> args) {
            if (name.equals("set") && args.stream().skip(3).anyMatch(o -> o.utf8().equalsIgnoreCase("XX") || o.utf8().equalsIgnoreCase("GET"))) {
                return Order.ALONE;
            }
            return order;
        }

        /** Runs it with {@code args} of the right arity (other than HELLO and QUIT). */
        CompletableFuture<RespReply> run(List<Bytes> args, RespClient client) {
            return handler.run(args, client);
        }
    }

    /**
     * How a command is ordered with the others of its connection (RespConnection): READs run
     * together, WRITEs run together, ALONE (reads, then writes what it read) runs by itself, and
     * FREE touches no key and runs at once.
     */
    enum Order {
        READ, WRITE, ALONE, FREE
    }

    @FunctionalInterface
    interface Handler {
        CompletableFuture<RespReply> run(List<Bytes> args, RespClient client);
    }

    private final Map<String, Command> commands;
    private final RespNode node;

    RespCommands(RespNode node) {
        this.node = node;
        List<Command> all = List.of(
                new Command("get", 2, Order.READ, this::get),
                new Command("set", -3, Order.WRITE, this::set),
                new Command("setnx", 3, Order.WRITE, this::setnx),
                new Command("del", -2, Order.WRITE, this::del),
                new Command("exists", -2, Order.READ, this::exists),
                new Command("mget", -2, Order.READ, this::mget),
                new Command("mset", -3, Order.WRITE, this::mset),
                new Command("cas", 4, Order.WRITE, this::cas),
                new Command("ping", -1, Order.FREE, RespCommands::ping),
                new Command("echo", 2, Order.FREE, (args, client) -> done(new RespReply.Bulk(args.get(1)))),
                new Command("client", -2, Order.FREE, RespCommands::client),
                new Command("info", -1, Order.FREE, this::info),
                new Command("dbsize", 1, Order.FREE, (args, client) -> done(new RespReply.Int(node.status().get().details().keyCount()))),
                new Command("command", -1, Order.FREE, this::command),
                new Command("readonly", 1, Order.FREE, (args, client) -> {
                    client.readonly(true);
                    return done(RespReply.OK);
                }),
                new Command("readwrite", 1, Order.FREE, (args, client) -> {
                    client.readonly(false);
                    return done(RespReply.OK);
                }),
                new Command("select", 2, Order.FREE, (args, client) -> done(args.get(1).utf8().equals("0") ? RespReply.OK
                        : RespReply.error("DB index is out of range (Flotilla has one keyspace, 0)"))),
                // Connection-level commands, answered by RespConnection itself: listed for arity and COMMAND.
                new Command("hello", -1, Order.FREE, null),
                new Command("quit", -1, Order.FREE, null));
        Map<String, Command> byName = new java.util.LinkedHashMap<>();
        all.forEach(s -> byName.put(s.name(), s));
        this.commands = Map.copyOf(byName);
    }

    /** The command {@code args} names, if Flotilla knows it. */
    Optional<Command> lookup(List<Bytes> args) {
        return Optional.ofNullable(commands.get(args.get(0).utf8().toLowerCase(Locale.ROOT)));
    }

    static RespReply unknown(List<Bytes> args) {
        StringBuilder b = new StringBuilder("unknown command '").append(printable(args.get(0))).append("', with args beginning with: ");
        args.stream().skip(1).limit(8).forEach(a -> b.append('\'').append(printable(a)).append("' "));
        return RespReply.error(b.toString().trim());
    }

    private static String printable(Bytes b) {
        String s = new String(b.unsafeArray(), 0, Math.min(b.length(), 64), StandardCharsets.UTF_8);
        return s.replaceAll("[\\p{Cntrl}']", "?");
    }

    // Reads and writes.

    private CompletableFuture<RespReply> get(List<Bytes> args, RespClient client) {
        return client.read(args.get(1)).thenApply(r -> r instanceof Response.Value v ? new RespReply.Bulk(v.value())
                : Response.NOT_FOUND.equals(r) ? RespReply.NULL : failure(r));
    }

    /** SET key value [NX | XX] [GET]; expiry options are refused (the store keeps no clock of its own). */
    private CompletableFuture<RespReply> set(List<Bytes> args, RespClient client) {
        boolean nx = false;
        boolean xx = false;
        boolean get = false;
        for (Bytes option : args.subList(3, args.size())) {
            switch (option.utf8().toUpperCase(Locale.ROOT)) {
                case "NX" -> nx = true;
                case "XX" -> xx = true;
                case "GET" -> get = true;
                case "EX", "PX", "EXAT", "PXAT", "KEEPTTL" -> {
                    return done(RespReply.error("expiry (" + option.utf8().toUpperCase(Locale.ROOT)
                            + ") is not supported: Flotilla keys do not expire"));
                }
                default -> {
                    return done(RespReply.error("syntax error"));
                }
            }
        }
        if (nx && xx) {
            return done(RespReply.error("syntax error"));
        }
        Bytes key = args.get(1);
        Bytes value = args.get(2);
        if (nx && !get) {
            return client.write(s -> new Request.Cas(s, key, Optional.empty(), value))
                    .thenApply(r -> Response.OK.equals(r) ? RespReply.OK : Response.CAS_MISMATCH.equals(r) ? RespReply.NULL : failure(r));
        }
        if (!nx && !xx && !get) {
            return client.write(s -> new Request.Set(s, key, value)).thenApply(r -> Response.OK.equals(r) ? RespReply.OK : failure(r));
        }
        return replaceReading(client, key, value, nx, xx, get);
    }

    /**
     * SET with XX or GET: read the value, then swap it by CAS against what was read, again if
     * another write came between. The CAS that succeeds is the command's single point in time, and
     * the value it replaced is exactly the one read, so the command is linearizable as a whole.
     */
    private CompletableFuture<RespReply> replaceReading(RespClient client, Bytes key, Bytes value, boolean nx, boolean xx, boolean get) {
        return client.read(key).thenCompose(r -> {
            if (!(r instanceof Response.Value) && !Response.NOT_FOUND.equals(r)) {
                return done(failure(r));
            }
            Optional<Bytes> old = r instanceof Response.Value v ? Optional.of(v.value()) : Optional.empty();
            RespReply previous = old.<RespReply>map(RespReply.Bulk::new).orElse(RespReply.NULL);
            if (nx && old.isPresent() || xx && old.isEmpty()) {
                return done(get ? previous : RespReply.NULL); // the condition failed at the read: nothing to write
            }
            return client.write(s -> new Request.Cas(s, key, old, value)).thenCompose(w -> Response.CAS_MISMATCH.equals(w)
                    ? replaceReading(client, key, value, nx, xx, get)
                    : done(Response.OK.equals(w) ? (get ? previous : RespReply.OK) : failure(w)));
        });
    }

    private CompletableFuture<RespReply> setnx(List<Bytes> args, RespClient client) {
        return client.write(s -> new Request.Cas(s, args.get(1), Optional.empty(), args.get(2))).thenApply(RespCommands::swapped);
    }

    /** CAS key expected new: 1 if key held expected and now holds new, 0 if it held something else (or nothing). */
    private CompletableFuture<RespReply> cas(List<Bytes> args, RespClient client) {
        return client.write(s -> new Request.Cas(s, args.get(1), Optional.of(args.get(2)), args.get(3))).thenApply(RespCommands::swapped);
    }

    /** A compare-and-set's answer as an integer: 1 it wrote, 0 it found something else. */
    private static RespReply swapped(Response r) {
        return Response.OK.equals(r) ? new RespReply.Int(1) : Response.CAS_MISMATCH.equals(r) ? new RespReply.Int(0) : failure(r);
    }

    /** DEL: one key is a DELETE; more are one DELETE_MANY, applied atomically. */
    private CompletableFuture<RespReply> del(List<Bytes> args, RespClient client) {
        List<Bytes> keys = args.subList(1, args.size());
        if (keys.size() == 1) {
            return client.write(s -> new Request.Delete(s, keys.get(0))).thenApply(r -> Response.OK.equals(r) ? new RespReply.Int(1)
                    : Response.NOT_FOUND.equals(r) ? new RespReply.Int(0) : failure(r));
        }
        return client.write(s -> new Request.DeleteMany(s, keys)).thenApply(r -> {
            if (r instanceof Response.Count c) {
                return new RespReply.Int(c.count());
            }
            if (Response.NOT_FOUND.equals(r)) {
                return new RespReply.Int(0);
            }
            // A retry of a delete applied earlier: the session kept that some keys existed, not how many.
            return Response.OK.equals(r) ? RespReply.error("the keys were deleted by an earlier attempt of this command, whose answer "
                    + "was lost in a leader change; how many existed is not known") : failure(r);
        });
    }

    /** EXISTS: how many of the keys (counted as often as named) exist, read at one point of the log. */
    private CompletableFuture<RespReply> exists(List<Bytes> args, RespClient client) {
        return client.read(args.subList(1, args.size())).thenApply(r -> r instanceof Response.Values v
                ? new RespReply.Int(v.values().stream().filter(java.util.Optional::isPresent).count()) : failure(r));
    }

    private CompletableFuture<RespReply> mget(List<Bytes> args, RespClient client) {
        return client.read(args.subList(1, args.size())).thenApply(r -> r instanceof Response.Values v
                ? new RespReply.Array(v.values().stream().<RespReply>map(o -> o.<RespReply>map(RespReply.Bulk::new).orElse(RespReply.NULL)).toList())
                : failure(r));
    }

    /** MSET: one SET_MANY, applied atomically. */
    private CompletableFuture<RespReply> mset(List<Bytes> args, RespClient client) {
        if (args.size() % 2 != 1) {
            return done(RespReply.error("wrong number of arguments for 'mset' command"));
        }
        List<Request.KeyValue> entries = new ArrayList<>();
        for (int i = 1; i < args.size(); i += 2) {
            entries.add(new Request.KeyValue(args.get(i), args.get(i + 1)));
        }
        return client.write(s -> new Request.SetMany(s, entries)).thenApply(r -> Response.OK.equals(r) ? RespReply.OK : failure(r));
    }

    /**
     * A failure with Redis's words: TRYAGAIN for what was certainly not applied and may be retried
     * as it is, ERR for the rest, whose message says whether a write may have been applied.
     */
    static RespReply failure(Response r) {
        if (r instanceof Response.Failure f) {
            return f.code().retryable() && f.code() != Response.Code.UNKNOWN_OUTCOME
                    ? new RespReply.Error("TRYAGAIN", f.message()) : RespReply.error(f.message());
        }
        if (r instanceof Response.NotLeader n) {
            return new RespReply.Error("TRYAGAIN", n.message());
        }
        return RespReply.error("unexpected answer " + r);
    }

    // The connection and the server.

    private static CompletableFuture<RespReply> ping(List<Bytes> args, RespClient client) {
        if (args.size() > 2) {
            return done(RespReply.error("wrong number of arguments for 'ping' command"));
        }
        return done(args.size() == 2 ? new RespReply.Bulk(args.get(1)) : new RespReply.Simple("PONG"));
    }

    private static CompletableFuture<RespReply> client(List<Bytes> args, RespClient client) {
        String sub = args.get(1).utf8().toUpperCase(Locale.ROOT);
        return done(switch (sub) {
            case "ID" -> new RespReply.Int(client.id());
            case "GETNAME" -> client.name().isEmpty() ? RespReply.NULL : RespReply.bulk(client.name());
            case "SETNAME" -> {
                if (args.size() != 3) {
                    yield RespReply.error("wrong number of arguments for 'client|setname' command");
                }
                String name = args.get(2).utf8();
                if (name.chars().anyMatch(c -> c <= ' ' || c > '~')) {
                    yield RespReply.error("Client names cannot contain spaces, newlines or special characters.");
                }
                client.name(name);
                yield RespReply.OK;
            }
            // Client libraries announce themselves (Jedis, redis-py, Lettuce); there is nothing to keep.
            case "SETINFO" -> RespReply.OK;
            default -> RespReply.error("unknown subcommand '" + printable(args.get(1)) + "'. Try CLIENT ID, GETNAME, SETNAME.");
        });
    }

    /** HELLO's answer fields, after a successful negotiation to {@code protocol}. */
    RespReply.Map hello(RespClient client, int protocol) {
        NodeStatus s = node.status().get();
        return new RespReply.Map(List.of(
                new Entry(RespReply.bulk("server"), RespReply.bulk("flotilla")),
                new Entry(RespReply.bulk("version"), RespReply.bulk(RespNode.REDIS_VERSION)),
                new Entry(RespReply.bulk("proto"), new RespReply.Int(protocol)),
                new Entry(RespReply.bulk("id"), new RespReply.Int(client.id())),
                new Entry(RespReply.bulk("mode"), RespReply.bulk("standalone")),
                new Entry(RespReply.bulk("role"), RespReply.bulk("LEADER".equals(s.role()) ? "master" : "replica")),
                new Entry(RespReply.bulk("modules"), new RespReply.Array(List.of()))));
    }

    private CompletableFuture<RespReply> info(List<Bytes> args, RespClient client) {
        return done(RespReply.bulk(node.info(args.size() > 1 ? args.get(1).utf8().toLowerCase(Locale.ROOT) : "default")));
    }

    /** Enough of COMMAND for redis-cli's hints: each command's name and arity; COMMAND DOCS is empty. */
    private CompletableFuture<RespReply> command(List<Bytes> args, RespClient client) {
        if (args.size() > 1) {
            String sub = args.get(1).utf8().toUpperCase(Locale.ROOT);
            return done(switch (sub) {
                case "COUNT" -> new RespReply.Int(commands.size());
                case "DOCS" -> new RespReply.Map(List.of());
                default -> RespReply.error("unknown subcommand '" + printable(args.get(1)) + "'. Try COMMAND COUNT, DOCS.");
            });
        }
        List<RespReply> all = new ArrayList<>();
        commands.values().stream().sorted(java.util.Comparator.comparing(Command::name)).forEach(s -> all.add(new RespReply.Array(List.of(
                RespReply.bulk(s.name()), new RespReply.Int(s.arity()), new RespReply.Array(List.of()),
                new RespReply.Int(0), new RespReply.Int(0), new RespReply.Int(0)))));
        return done(new RespReply.Array(all));
    }

    private static CompletableFuture<RespReply> done(RespReply reply) {
        return CompletableFuture.completedFuture(reply);
    }
}
