package io.flotilla.server.example;

import java.nio.charset.StandardCharsets;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.commands.ProtocolCommand;

public class RedisExample {
    /** Flotilla's compare-and-set: CAS key expected new answers 1 (swapped) or 0. */
    static final ProtocolCommand CAS = () -> "CAS".getBytes(StandardCharsets.US_ASCII);

    public static void main(String[] args) {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 7001; // any node's Redis port
        try (RedisClient redis = RedisClient.create("127.0.0.1", port)) {
            redis.set("greeting", "hello");            // answered once on a majority of fsynced disks
            System.out.println(redis.get("greeting")); // linearizable: sees every acknowledged write
            System.out.println(redis.sendCommand(CAS, "greeting", "hello", "bonjour")); // 1
            System.out.println(redis.get("greeting"));
        }
    }
}
