/**
 * The learner's cell seam: {@link io.spillway.engine.model.Cell} (parameter layout, carried state and its
 * lossless codec) and {@link io.spillway.engine.model.CellWindow} (the {@code RecurrentModel} over one training
 * window that the checkpoint schedules drive), the window's inputs ({@link io.spillway.engine.model.WindowInputs}),
 * the lossless spike-id block both cells' state codecs use ({@link io.spillway.engine.model.SpikeBlockCodec}) and
 * the seedable generator. Each cell has its own package: {@code model.lif} (the LIF spiking RNN) and
 * {@code model.egru} (the event-based GRU). Engine-internal: the streams app uses
 * {@code io.spillway.engine.Learners}.
 */
package io.spillway.engine.model;
