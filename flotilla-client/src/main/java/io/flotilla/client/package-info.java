/**
 * The Flotilla client. {@link io.flotilla.client.FlotillaClient} is the entry point: it finds the
 * leader, keeps one connection per node with many requests in flight, and retries within a deadline
 * and a retry budget, with session numbers that make a retried write apply once.
 * {@link io.flotilla.client.ClientOptions} configures it. The {@code wire} package is the protocol
 * shared with the server, {@code cli} the {@code flotilla-client} command line and {@code bench}
 * its load generator.
 */
package io.flotilla.client;
