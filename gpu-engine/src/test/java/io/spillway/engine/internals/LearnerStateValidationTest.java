package io.spillway.engine.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.InvalidStateException;
import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.engine.StateMismatchException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A learner state that is damaged in one field is refused with an {@link InvalidStateException} naming that
 * field: a non-finite weight, a negative version, lengths beyond what the configured model can hold (carried
 * keys, key bytes, state bytes, features), an event type, label or feature index out of range, a damaged carried
 * state, a key twice. A state of another shape is a {@link StateMismatchException}.
 */
class LearnerStateValidationTest {
    private static final int VOCAB = 8;
    private static final int FEATURES = 6;
    private static final int MAX_KEYS = 50;
    private static byte[] state;
    private static int parameters;
    private static Layout layout;

    /**
     * Offsets in the state: magic and format (8 bytes), the cell's name ("lif" as UTF, 5), the shape (20), the
     * version (8), the rng (8), the parameter count (4), then the parameters.
     */
    private static final int SHAPE = 13;
    private static final int VERSION = SHAPE + 20;
    private static final int PARAMETER_COUNT = VERSION + 16;
    private static final int PARAMETERS = PARAMETER_COUNT + 4;

    private static LearnerConfig config() {
        return LearnerConfig.builder().cell("lif").vocabularySize(VOCAB).featureDimension(FEATURES).hiddenSize(16)
                .layers(1).optimizer("sgd").learningRate(0.01f).backend("cpu").seed(9L).maxCarriedKeys(MAX_KEYS).build();
    }

    /** Offsets of the fields of the first two carried keys (the SGD state is 12 bytes). */
    private record Layout(int keyCount, int key0Length, int key0State, int key0StateBytes, int key0Flag,
                          int key0Type, int key0Label, int key0Nnz, int key0Features, int key0Context, int key1Bytes) {
    }

    @BeforeAll
    static void trainAShortRun() throws IOException {
        try (Learner learner = Learners.create(config())) {
            for (int step = 0; step < 3; step++) {
                final List<SequenceChunk> batch = new ArrayList<>();
                for (int k = 0; k < 2; k++) {
                    final List<SparseEvent> events = new ArrayList<>();
                    for (int i = 0; i < 5; i++) {
                        events.add(new SparseEvent((i + k + step) % VOCAB, new int[] {1, 4},
                                new float[] {0.5f, -1f}, SparseEvent.NO_LABEL));
                    }
                    batch.add(new SequenceChunk("key-" + k, events));
                }
                learner.train(batch);
            }
            parameters = learner.parameters().values().stream().mapToInt(a -> a.length).sum();
            final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            learner.writeState(new DataOutputStream(bytes));
            state = bytes.toByteArray();
        }
        final ByteBuffer b = ByteBuffer.wrap(state);
        final int keyCount = PARAMETERS + 4 * parameters + 12 + 8;
        assertThat(b.getInt(keyCount)).isEqualTo(2);
        final int key0Length = keyCount + 4;
        final int key0StateLength = key0Length + 4 + b.getInt(key0Length);
        final int key0State = key0StateLength + 4;
        final int key0Flag = key0State + b.getInt(key0StateLength);
        assertThat(state[key0Flag]).isEqualTo((byte) 1);
        final int nnz = key0Flag + 1 + 8;
        assertThat(b.getInt(nnz)).isEqualTo(2);
        final int key0Context = nnz + 4 + 8 * 2;
        final int key1Length = key0Context + 8;
        layout = new Layout(keyCount, key0Length, key0State, key0StateLength, key0Flag, key0Flag + 1, key0Flag + 5,
                nnz, nnz + 4, key0Context, key1Length + 4);
    }

    private static void restore(final byte[] bytes) throws IOException {
        try (Learner fresh = Learners.create(config())) {
            fresh.readState(new DataInputStream(new ByteArrayInputStream(bytes)));
        }
    }

    private static void assertRefused(final byte[] bytes, final String message) {
        assertThatThrownBy(() -> restore(bytes)).isInstanceOf(InvalidStateException.class)
                .hasMessageContaining(message);
    }

    private static byte[] withInt(final int at, final int value) {
        final byte[] copy = state.clone();
        ByteBuffer.wrap(copy).putInt(at, value);
        return copy;
    }

    private static byte[] withFloat(final int at, final float value) {
        final byte[] copy = state.clone();
        ByteBuffer.wrap(copy).putFloat(at, value);
        return copy;
    }

    @Test
    void theUndamagedStateRestores() throws IOException {
        restore(state);
    }

    @Test
    void aNonFiniteWeightIsRefusedNamingTheTensor() {
        assertRefused(withFloat(PARAMETERS + 4 * 3, Float.NaN), "parameter layer0.w_in[3] is not finite: NaN");
        assertRefused(withFloat(PARAMETERS + 4 * (parameters - 1), Float.NEGATIVE_INFINITY),
                "parameter readout.bias[7] is not finite: -Infinity");
    }

    @Test
    void negativeCountsAreRefused() {
        final byte[] version = state.clone();
        ByteBuffer.wrap(version).putLong(VERSION, -1);
        assertRefused(version, "model version is negative: -1");
        final byte[] evictions = state.clone();
        ByteBuffer.wrap(evictions).putLong(layout.keyCount() - 8, Long.MIN_VALUE);
        assertRefused(evictions, "carried-key eviction count is negative");
        assertRefused(withInt(PARAMETER_COUNT, parameters + 1), "parameter count is " + (parameters + 1) + ", expected " + parameters);
    }

    @Test
    void oversizedLengthsAreRefusedBeforeTheyAllocate() {
        // a count beyond the keys that follow allocates nothing: the state just ends early
        assertThatThrownBy(() -> restore(withInt(layout.keyCount(), Integer.MAX_VALUE))).isInstanceOf(IOException.class);
        assertRefused(withInt(layout.keyCount(), -1), "carried key count is -1");
        assertRefused(withInt(layout.key0Length(), Integer.MAX_VALUE), "carried key length is 2147483647");
        assertRefused(withInt(layout.key0StateBytes(), Integer.MAX_VALUE),
                "carried state length of key 'key-0' is 2147483647");
        assertRefused(withInt(layout.key0StateBytes(), -8), "carried state length of key 'key-0' is -8");
        assertRefused(withInt(layout.key0Nnz(), FEATURES + 1),
                "pending event feature count of key 'key-0' is 7, outside [0, 6]");
    }

    /** A state written with room for more carried keys than this learner has restores, evicting the least recent. */
    @Test
    void moreCarriedKeysThanTheCapacityEvictTheLeastRecent() throws IOException {
        try (Learner one = Learners.create(LearnerConfig.builder().cell("lif").vocabularySize(VOCAB).featureDimension(FEATURES)
                .hiddenSize(16).layers(1).optimizer("sgd").learningRate(0.01f).backend("cpu").seed(9L)
                .maxCarriedKeys(1).build())) {
            one.readState(new DataInputStream(new ByteArrayInputStream(state)));
            assertThat(((SpikingLearner) one).carriedKeys()).isEqualTo(1);
            assertThat(((SpikingLearner) one).evictedKeys()).isEqualTo(1);
        }
    }

    @Test
    void eventTypeLabelAndFeatureIndexOutOfRangeAreRefused() {
        assertRefused(withInt(layout.key0Type(), VOCAB), "pending event type of key 'key-0' is 8, outside [0, 8)");
        assertRefused(withInt(layout.key0Type(), -2), "pending event type of key 'key-0' is -2");
        assertRefused(withInt(layout.key0Label(), VOCAB + 3), "pending event label of key 'key-0' is 11");
        assertRefused(withInt(layout.key0Features(), FEATURES), "pending event feature index of key 'key-0' 6");
        assertRefused(withInt(layout.key0Features(), -1), "pending event feature index of key 'key-0' -1");
        // the second index not above the first
        assertRefused(withInt(layout.key0Features() + 8, 1), "pending event feature index of key 'key-0' 1 at position 1");
        assertRefused(withFloat(layout.key0Features() + 4, Float.NaN),
                "pending event feature value of key 'key-0'[0] is not finite");
        final byte[] flag = state.clone();
        flag[layout.key0Flag()] = 7;
        assertRefused(flag, "pending-event flag of key 'key-0' is 7");
    }

    /** A non-finite potential (training leaves +infinity on a saturated neuron) restarts that key, not the model. */
    @Test
    void aNonFiniteCarriedPotentialRestartsThatKeyFromRest() throws IOException {
        // the state record: batch, layers, hidden, then the potentials
        for (final float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
            try (Learner fresh = Learners.create(config())) {
                fresh.readState(new DataInputStream(new ByteArrayInputStream(withFloat(layout.key0State() + 12, bad))));
                final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                fresh.writeState(new DataOutputStream(bytes));
                final ByteBuffer back = ByteBuffer.wrap(bytes.toByteArray());
                for (int i = 0; i < 16; i++) {
                    assertThat(back.getFloat(layout.key0State() + 12 + 4 * i)).isZero();
                }
                assertThat(((SpikingLearner) fresh).carriedKeys()).isEqualTo(2);
                assertThat(fresh.version()).isEqualTo(3);
            }
        }
    }

    @Test
    void aDamagedCarriedStateIsRefused() {
        assertRefused(withInt(layout.key0State(), 3), "carried state of key 'key-0': record is for 3x1x16");
        // the spike block of the only population: its count, past the 16 potentials
        assertRefused(withInt(layout.key0State() + 12 + 4 * 16, 17), "carried state of key 'key-0': corrupt spike block: count 17");
    }

    @Test
    void aKeyTwiceIsRefused() {
        final byte[] twice = state.clone();
        System.arraycopy("key-0".getBytes(java.nio.charset.StandardCharsets.UTF_8), 0, twice, layout.key1Bytes(), 5);
        assertRefused(twice, "carried key 'key-0' appears twice");
    }

    /** A key's mixture context must be one its context model could have made: its length, its event types. */
    @Test
    void aForeignMixtureContextIsRefused() {
        final long length7 = 7L << 56; // longer than the order-6 model keeps
        for (final long bad : new long[] {-1L, length7, (1L << 56) | 9 /* event type 9 of 8 */, (1L << 56) | (1L << 20)}) {
            final byte[] forged = state.clone();
            ByteBuffer.wrap(forged).putLong(layout.key0Context(), bad);
            assertRefused(forged, "mixture context of key 'key-0'");
        }
        // and the one written restores
        assertThat(ByteBuffer.wrap(state).getLong(layout.key0Context()) >>> 56).isEqualTo(6);
    }

    @Test
    void anotherShapeIsAMismatch() {
        assertThatThrownBy(() -> restore(withInt(SHAPE + 8, 17))).isInstanceOf(StateMismatchException.class)
                .hasMessageContaining("state is for LIF shape [8, 6, 17, 1, 0]");
    }

    @Test
    void aTruncatedStateIsAnIoException() {
        for (int cut = 0; cut < state.length; cut += 13) {
            final byte[] part = Arrays.copyOf(state, cut);
            assertThatThrownBy(() -> restore(part)).isInstanceOf(IOException.class);
        }
    }
}
