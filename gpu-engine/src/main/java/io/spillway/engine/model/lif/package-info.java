/**
 * The multi-layer LIF spiking RNN ({@code docs/spec-double-checkpointing.md} §4.1): parameters in one
 * flat vector ({@link io.spillway.engine.model.lif.LifParameters}), immutable batch states with spike-id lists
 * ({@link io.spillway.engine.model.lif.LifState}) and their lossless codec, and
 * {@link io.spillway.engine.model.lif.LifWindow}, the window the checkpoint schedules drive; behind the cell seam
 * as {@link io.spillway.engine.model.lif.LifCell}.
 */
package io.spillway.engine.model.lif;
