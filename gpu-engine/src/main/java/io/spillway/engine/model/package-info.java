/**
 * The multi-layer LIF spiking RNN ({@code docs/spec-double-checkpointing.md} §4.1): parameters in one
 * flat vector ({@link io.spillway.engine.model.LifParameters}), immutable batch states with spike-id lists
 * ({@link io.spillway.engine.model.LifState}) and their lossless codec, and
 * {@link io.spillway.engine.model.LifWindow}, the {@code RecurrentModel} over one training window that the
 * checkpoint schedules drive. Engine-internal: the streams app uses {@code io.spillway.engine.Learners}.
 */
package io.spillway.engine.model;
