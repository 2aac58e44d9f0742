/**
 * The Flotilla client: connection to the cluster, command line and load generator.
 * Arrives with its issue.
 */
package io.flotilla.client;
