import io.flotilla.client.ClientOptions;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.FlotillaException;
import io.flotilla.core.Bytes;
import java.time.Duration;
import java.util.Optional;

public class ClientExample {
    public static void main(String[] args) {
        // The nodes: FLOTILLA_CLUSTER if set, else 127.0.0.1:5001-5003; or name them ("host:port,...").
        ClientOptions options = (args.length > 0 ? ClientOptions.of(args[0]) : ClientOptions.defaults())
                .withDeadline(Duration.ofSeconds(5));            // bounds every call, retries included
        try (FlotillaClient client = FlotillaClient.create(options)) {
            client.set("greeting", "hello");                      // blocking calls, UTF-8 strings
            Optional<String> greeting = client.get("greeting");
            System.out.println("greeting = " + greeting.orElse("(absent)"));
            System.out.println("swapped: " + client.cas("greeting", "hello", "hi"));

            client.setAsync(Bytes.utf8("counter"), Bytes.utf8("1"))          // asynchronous calls, byte strings
                    .thenCompose(done -> client.getAsync(Bytes.utf8("counter")))
                    .thenAccept(value -> System.out.println("counter = " + value.map(Bytes::utf8).orElse("?")))
                    .join();
        } catch (FlotillaException e) {
            // The message names what was tried; mayHaveBeenApplied() tells whether a write may have taken effect.
            System.err.println(e.getMessage());
        }
    }
}
