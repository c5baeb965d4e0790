/**
 * Implementations behind the engine's public API ({@code Learner}); not public API themselves. The
 * {@link io.spillway.engine.internals.SpikingLearner} also offers {@code writeState}/{@code readState} for
 * snapshots.
 */
package io.spillway.engine.internals;
