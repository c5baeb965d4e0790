package io.spillway.app.scaleout;

import io.spillway.engine.ConfigProvenance;
import io.spillway.engine.InvalidStateException;
import io.spillway.engine.Learner;
import io.spillway.engine.StateMismatchException;
import io.spillway.engine.TensorDelta;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
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
 * @param provenance the learner configuration the model was trained with; null when read from v1, which did not
 *        record it
 */
public record SplitCheckpoint(String deltaTopic, Map<Integer, Long> positions, Map<String, float[]> weights,
                              ConfigProvenance provenance) {
    /** The current format (the snapshot records' {@code format}, and the payload's first string). */
    public static final String FORMAT = "spillway-split-weights-v2";
    /** The format before the learner configuration was recorded; still restored (unchecked). */
    public static final String FORMAT_V1 = "spillway-split-weights-v1";
    /** Formats this version restores. */
    public static final java.util.Set<String> READABLE_FORMATS = java.util.Set.of(FORMAT, FORMAT_V1);

    public SplitCheckpoint {
        positions = Map.copyOf(positions);
        weights = Map.copyOf(weights);
    }

    /** The snapshot's version: the number of delta-log records it includes (grows with the log). */
    public long logVersion() {
        return positions.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Moves {@code learner}'s weights (a fresh learner's, or any of the same shape) to this snapshot's.
     *
     * @throws StateMismatchException if the snapshot's tensors are not the model's (names and sizes); the learner
     *     is then unchanged
     */
    public void applyTo(final Learner learner) throws StateMismatchException {
        final Map<String, float[]> current = learner.parameters();
        if (!current.keySet().equals(weights.keySet())) {
            throw new StateMismatchException("the snapshot's tensors " + new TreeMap<>(weights).keySet()
                    + " are not the model's " + new TreeMap<>(current).keySet());
        }
        for (final Map.Entry<String, float[]> e : weights.entrySet()) {
            if (current.get(e.getKey()).length != e.getValue().length) {
                throw new StateMismatchException("tensor " + e.getKey() + " has " + current.get(e.getKey()).length
                        + " entries, the snapshot " + e.getValue().length);
            }
        }
        for (final Map.Entry<String, float[]> e : weights.entrySet()) {
            final float[] now = current.get(e.getKey());
            final float[] target = e.getValue();
            int n = 0;
            final int[] idx = new int[now.length];
            final float[] val = new float[now.length];
            for (int i = 0; i < now.length; i++) {
                if (now[i] != target[i]) {
                    idx[n] = i;
                    val[n++] = target[i] - now[i];
                }
            }
            learner.applyDelta(new TensorDelta(e.getKey(), now.length, Arrays.copyOf(idx, n), Arrays.copyOf(val, n)));
        }
    }

    /** Writes the current format, {@link #FORMAT}; it needs the provenance (a checkpoint read from v1 has none). */
    public byte[] encode() {
        if (provenance == null) {
            throw new IllegalStateException("a " + FORMAT + " checkpoint records the learner configuration it was made"
                    + " with, and this one has none");
        }
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(FORMAT);
            out.writeUTF(deltaTopic);
            provenance.write(out);
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

    /**
     * Reads what {@link #encode} wrote, refusing anything else: counts and lengths bounded by the bytes that follow
     * before anything is allocated, partitions and offsets not negative and each partition and tensor once,
     * finite weights, nothing after the last tensor. Whether the tensors are the model's is {@link #applyTo}'s check.
     *
     * @throws InvalidStateException naming what is wrong
     */
    public static SplitCheckpoint decode(final byte[] bytes) throws InvalidStateException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            final String format = in.readUTF();
            if (!READABLE_FORMATS.contains(format)) {
                throw new InvalidStateException("not a " + FORMAT + " (or " + FORMAT_V1 + ") snapshot: " + quote(format));
            }
            final String topic = in.readUTF();
            final ConfigProvenance provenance = FORMAT.equals(format) ? ConfigProvenance.read(in) : null;
            final Map<Integer, Long> positions = new TreeMap<>();
            final int partitions = in.readInt();
            if (partitions < 0 || (long) partitions * (Integer.BYTES + Long.BYTES) > in.available()) {
                throw new InvalidStateException("split snapshot's partition count is " + partitions + ", but "
                        + in.available() + " bytes follow");
            }
            for (int i = 0; i < partitions; i++) {
                final int partition = in.readInt();
                final long position = in.readLong();
                if (partition < 0 || position < 0) {
                    throw new InvalidStateException("split snapshot's delta-log position " + partition + "@" + position
                            + " is negative");
                }
                if (positions.put(partition, position) != null) {
                    throw new InvalidStateException("split snapshot names delta-log partition " + partition + " twice");
                }
            }
            final Map<String, float[]> weights = new TreeMap<>();
            final int tensors = in.readInt();
            if (tensors < 0 || (long) tensors * (Short.BYTES + Integer.BYTES) > in.available()) {
                throw new InvalidStateException("split snapshot's tensor count is " + tensors + ", but "
                        + in.available() + " bytes follow");
            }
            for (int i = 0; i < tensors; i++) {
                final String name = in.readUTF();
                final int length = in.readInt();
                if (length < 0 || (long) length * Float.BYTES > in.available()) {
                    throw new InvalidStateException("split snapshot's tensor " + quote(name) + " has "
                            + length + " entries, but " + in.available() + " bytes follow");
                }
                final float[] w = new float[length];
                for (int k = 0; k < w.length; k++) {
                    w[k] = in.readFloat();
                }
                for (int k = 0; k < w.length; k++) {
                    if (!Float.isFinite(w[k])) {
                        throw new InvalidStateException("split snapshot's tensor " + quote(name) + "[" + k
                                + "] is not finite: " + w[k]);
                    }
                }
                if (weights.put(name, w) != null) {
                    throw new InvalidStateException("split snapshot has tensor " + quote(name) + " twice");
                }
            }
            if (in.available() > 0) {
                throw new InvalidStateException("split snapshot has " + in.available() + " bytes after its last tensor");
            }
            return new SplitCheckpoint(topic, positions, weights, provenance);
        } catch (final InvalidStateException e) {
            throw e;
        } catch (final IOException e) {
            throw new InvalidStateException("corrupt " + FORMAT + " snapshot: it ends early or has a malformed name: "
                    + e, e);
        }
    }

    /** A name from the payload, for a message: quoted, cut to 64 characters, control characters escaped. */
    private static String quote(final String name) {
        final String cut = name.length() > 64 ? name.substring(0, 64) + "..." : name;
        return "'" + cut.chars().mapToObj(c -> Character.isISOControl(c) ? String.format("\\u%04x", c)
                : String.valueOf((char) c)).collect(java.util.stream.Collectors.joining()) + "'";
    }
}
