package io.spillway.app.demo;

import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Long per-key event sequences with learnable structure, for the demo and tests: each key cycles through
 * its own motif (a fixed sequence of event types, one of a few shared motifs), and with probability
 * {@code noise} an event is replaced by a random type. A learner that tracks the key's position in its
 * motif predicts the next type with accuracy near {@code 1 - noise}; the uniform baseline is
 * {@code 1 / vocabulary}. Each event also carries two sparse features: one tied to its type, one random.
 *
 * <p>Deterministic for a seed. Not thread-safe.
 */
public final class SequenceGenerator {
    private final int vocabulary;
    private final int featureDimension;
    private final double noise;
    private final SplittableRandom random;
    private final int[][] motifs;
    private final String[] keys;
    private final int[] position;
    private final long[] time;
    private long produced;

    /**
     * @param keys number of entities, interleaved round-robin
     * @param vocabulary event types
     * @param featureDimension feature indices lie in [0, featureDimension); at least 2
     * @param noise probability in [0, 1) that an event is random
     */
    public SequenceGenerator(final int keys, final int vocabulary, final int featureDimension, final double noise,
                             final long seed) {
        if (keys <= 0 || vocabulary < 2 || featureDimension < 2 || noise < 0 || noise >= 1) {
            throw new IllegalArgumentException("bad generator settings: keys " + keys + ", vocabulary " + vocabulary
                    + ", features " + featureDimension + ", noise " + noise);
        }
        this.vocabulary = vocabulary;
        this.featureDimension = featureDimension;
        this.noise = noise;
        this.random = new SplittableRandom(seed);
        this.motifs = new int[4][];
        for (int m = 0; m < motifs.length; m++) {
            final int length = 5 + m * 2;
            motifs[m] = random.ints(length, 0, vocabulary).toArray();
        }
        this.keys = new String[keys];
        this.position = new int[keys];
        this.time = new long[keys];
        for (int k = 0; k < keys; k++) {
            this.keys[k] = "entity-" + k;
            this.position[k] = random.nextInt(motifs[k % motifs.length].length);
            this.time[k] = 1_700_000_000_000L;
        }
    }

    /** The next event, keys in round-robin order. */
    public Event next() {
        final int k = (int) (produced++ % keys.length);
        final int[] motif = motifs[k % motifs.length];
        final int type = random.nextDouble() < noise ? random.nextInt(vocabulary) : motif[position[k]];
        position[k] = (position[k] + 1) % motif.length;
        time[k] += 1 + random.nextInt(1000);
        final int tied = type % featureDimension;
        int other = random.nextInt(featureDimension);
        if (other == tied) {
            other = (other + 1) % featureDimension;
        }
        final List<Integer> indices = new ArrayList<>(List.of(Math.min(tied, other), Math.max(tied, other)));
        final List<Float> values = new ArrayList<>();
        for (final int i : indices) {
            values.add(i == tied ? 1f : (float) random.nextDouble());
        }
        return Event.newBuilder().setEntityId(keys[k]).setTimestampMs(time[k]).setEventType(type)
                .setFeatures(SparseVector.newBuilder().setIndices(indices).setValues(values).build()).setLabel(null).build();
    }

    public long produced() {
        return produced;
    }
}
