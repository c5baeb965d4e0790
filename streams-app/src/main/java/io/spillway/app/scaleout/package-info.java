/**
 * Split training across instances: each instance publishes its updates compressed with error feedback
 * ({@link io.spillway.app.scaleout.ErrorFeedbackCompressor}) and applies the other instances' updates from the
 * delta log ({@link io.spillway.app.scaleout.PeerDeltas}).
 */
package io.spillway.app.scaleout;
