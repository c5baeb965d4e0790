/**
 * The event-based GRU (EGRU, Subramoney et al., ICLR 2023): a gated cell whose units emit a graded event
 * {@code y = c-hat} only when their cell state crosses a per-unit threshold, then reset by subtraction, so the
 * recurrent and inter-layer products, forward and backward, run over emitting units only. Parameters
 * ({@link io.spillway.engine.model.egru.EgruParameters}), immutable states of pre-reset cell states and event ids
 * with their lossless codec, and {@link io.spillway.engine.model.egru.EgruWindow}; behind the cell seam as
 * {@link io.spillway.engine.model.egru.EgruCell}.
 */
package io.spillway.engine.model.egru;
