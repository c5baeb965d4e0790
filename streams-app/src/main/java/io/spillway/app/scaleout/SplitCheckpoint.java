package io.spillway.app.scaleout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * A snapshot of a split-trained model: its weights as the initial weights plus every delta of the delta log
 * before {@code positions} (per partition of the delta topic). A new instance restores the weights and reads the
 * log from those positions, so the log before them may be deleted (time-based retention). Optimizer states and
 * carried per-key states are each instance's own and are not in it. Big-endian, versioned by {@link #FORMAT}.
 *
 * @param deltaTopic the delta topic the positions refer to
 * @param positions first offset not included, per partition of the delta topic
 * @param weights the parameter tensors, flattened
 */
public record SplitCheckpoint(String deltaTopic, Map<Integer, Long> positions, Map<String, float[]> weights) {
    public static final String FORMAT = "spillway-split-weights-v1";

    public SplitCheckpoint {
        positions = Map.copyOf(positions);
        weights = Map.copyOf(weights);
    }

    /** The snapshot's version: the number of delta-log records it includes (grows with the log). */
    public long logVersion() {
        return positions.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Moves {@code learner}'s weights (a fresh learner's, or any of the same shape) to this snapshot's. */
    public void applyTo(final io.spillway.engine.Learner learner) {
        final Map<String, float[]> current = learner.parameters();
        if (!current.keySet().equals(weights.keySet())) {
            throw new IllegalArgumentException("the snapshot's tensors " + new TreeMap<>(weights).keySet()
                    + " are not the model's " + new TreeMap<>(current).keySet());
        }
        for (final Map.Entry<String, float[]> e : weights.entrySet()) {
            final float[] now = current.get(e.getKey());
            final float[] target = e.getValue();
            if (now.length != target.length) {
                throw new IllegalArgumentException("tensor " + e.getKey() + " has " + now.length
                        + " entries, the snapshot " + target.length);
            }
            int n = 0;
            final int[] idx = new int[now.length];
            final float[] val = new float[now.length];
            for (int i = 0; i < now.length; i++) {
                if (now[i] != target[i]) {
                    idx[n] = i;
                    val[n++] = target[i] - now[i];
                }
            }
            learner.applyDelta(new io.spillway.engine.TensorDelta(e.getKey(), now.length,
                    java.util.Arrays.copyOf(idx, n), java.util.Arrays.copyOf(val, n)));
        }
    }

    public byte[] encode() {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(FORMAT);
            out.writeUTF(deltaTopic);
            out.writeInt(positions.size());
            for (final Map.Entry<Integer, Long> e : new TreeMap<>(positions).entrySet()) {
                out.writeInt(e.getKey());
                out.writeLong(e.getValue());
            }
            out.writeInt(weights.size());
            for (final Map.Entry<String, float[]> e : new TreeMap<>(weights).entrySet()) {
                out.writeUTF(e.getKey());
                out.writeInt(e.getValue().length);
                for (final float v : e.getValue()) {
                    out.writeFloat(v);
                }
            }
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static SplitCheckpoint decode(final byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            final String format = in.readUTF();
            if (!FORMAT.equals(format)) {
                throw new IllegalArgumentException("not a " + FORMAT + " snapshot: " + format);
            }
            final String topic = in.readUTF();
            final Map<Integer, Long> positions = new TreeMap<>();
            for (int i = in.readInt(); i > 0; i--) {
                positions.put(in.readInt(), in.readLong());
            }
            final Map<String, float[]> weights = new TreeMap<>();
            for (int i = in.readInt(); i > 0; i--) {
                final String name = in.readUTF();
                final float[] w = new float[in.readInt()];
                for (int k = 0; k < w.length; k++) {
                    w[k] = in.readFloat();
                }
                weights.put(name, w);
            }
            return new SplitCheckpoint(topic, positions, weights);
        } catch (final IOException e) {
            throw new IllegalArgumentException("corrupt " + FORMAT + " snapshot: " + e.getMessage(), e);
        }
    }
}
