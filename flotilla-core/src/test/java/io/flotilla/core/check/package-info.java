/**
 * A linearizability checker for histories of concurrent operations (Wing &amp; Gong search with
 * Lowe's memoisation, as in Knossos and Porcupine), and a key-value register model to check
 * against. Shared with other modules' tests through flotilla-core's test-jar:
 * <pre>{@code
 * <dependency>
 *   <groupId>io.flotilla</groupId>
 *   <artifactId>flotilla-core</artifactId>
 *   <version>${project.version}</version>
 *   <type>test-jar</type>
 *   <scope>test</scope>
 * </dependency>
 * }</pre>
 * Record operations with {@link io.flotilla.core.check.History}, then call
 * {@link io.flotilla.core.check.LinearizabilityChecker#check}.
 */
package io.flotilla.core.check;
