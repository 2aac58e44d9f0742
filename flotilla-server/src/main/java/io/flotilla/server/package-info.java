/**
 * The Flotilla key-value server: Netty transport, key-value state machine, node command line.
 * Arrives with its issue.
 */
package io.flotilla.server;
