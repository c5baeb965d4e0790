/**
 * Checkpoint schedules for back-propagation through time (none/BPTT, uniform, remote, double), the
 * planner that fits a schedule into a device-memory budget, and off-chip checkpoint stores. Spec:
 * {@code docs/spec-double-checkpointing.md}.
 */
package io.spillway.engine.checkpoint;
