/**
 * Real public data as event streams: loaders that read text corpora shipped in Debian packages
 * ({@link io.spillway.app.replay.RealDataset}) as interleaved per-document character streams, the
 * {@code replay} command that produces them to the events topic at a controlled rate, and a
 * prequential evaluation of the learner on the same stream without a broker.
 */
package io.spillway.app.replay;
