/**
 * The deterministic simulation of a Flotilla cluster ({@link io.flotilla.core.sim.Simulation}):
 * the production protocol and driver on a simulated network and disk, in virtual time, driven by
 * one seed. {@link io.flotilla.core.sim.SimulationTest} runs it over many seeds; a failure prints
 * the seed and the command that replays it.
 */
package io.flotilla.core.sim;
