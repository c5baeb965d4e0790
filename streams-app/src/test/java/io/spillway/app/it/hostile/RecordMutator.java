package io.spillway.app.it.hostile;

import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * A seeded generator of hostile input records for the campaign: each starts from a valid Confluent-framed Avro
 * {@code Event} and breaks one thing about it (its bytes, its frame, its key, a field, a time, its headers or its
 * size). Each kind says what the app must do with it ({@link Expect}); the keys are chosen so that no record the app
 * may train can disturb a record the test expects trained: records that might train with odd times use keys of their
 * own, and a kind expected to train uses keys only such kinds use.
 *
 * <p>Deterministic for a seed and the same sequence of {@link #sawValid} calls. Not thread-safe.
 */
final class RecordMutator {
    /** What the app must do with a record of a kind. */
    enum Expect {
        /** Dead-letter it, with a reason. */
        DEAD_LETTER,
        /** Train it: the record is valid, only unusual. */
        TRAIN,
        /** Either, as long as it is accounted for (a mutation that may or may not leave a valid record). */
        EITHER,
        /** The broker refuses it at produce time: it never reaches the app. */
        BROKER_REFUSES
    }

    /** The kinds of mutation, with how often each is drawn (relative weights) and what the app must do. */
    enum Kind {
        BIT_FLIP(60, Expect.EITHER),
        BYTE_OVERWRITE(30, Expect.EITHER),
        TRUNCATED(30, Expect.DEAD_LETTER),
        TRAILING_BYTES(15, Expect.DEAD_LETTER),
        EMPTY_VALUE(5, Expect.DEAD_LETTER),
        SHORTER_THAN_FRAME(10, Expect.DEAD_LETTER),
        WRONG_MAGIC_BYTE(20, Expect.DEAD_LETTER),
        SCHEMA_ID_UNKNOWN(20, Expect.DEAD_LETTER),
        SCHEMA_ID_HUGE_OR_NEGATIVE(15, Expect.DEAD_LETTER),
        SCHEMA_ID_OF_ANOTHER_SCHEMA(10, Expect.EITHER),
        STRING_LENGTH_HUGE(15, Expect.DEAD_LETTER),
        STRING_LENGTH_NEGATIVE(10, Expect.DEAD_LETTER),
        STRING_LENGTH_PAST_END(10, Expect.DEAD_LETTER),
        ARRAY_COUNT_HUGE(15, Expect.DEAD_LETTER),
        ARRAY_COUNT_NEGATIVE(10, Expect.DEAD_LETTER),
        KEY_NOT_UTF8(10, Expect.DEAD_LETTER),
        KEY_WITH_NUL(10, Expect.DEAD_LETTER),
        KEY_EMPTY(10, Expect.DEAD_LETTER),
        KEY_NULL(10, Expect.DEAD_LETTER),
        KEY_HUGE_MISMATCHED(2, Expect.DEAD_LETTER),
        KEY_HUGE_MATCHING(2, Expect.EITHER),
        KEY_ENTITY_MISMATCH(20, Expect.DEAD_LETTER),
        /** Starts with the Confluent magic byte, so a key format of auto reads it as Avro: an unknown id, then junk. */
        KEY_FRAMED_GARBAGE(10, Expect.DEAD_LETTER),
        /** A JSON object of several fields and no key field configured. */
        KEY_JSON_OBJECT(5, Expect.DEAD_LETTER),
        /** The entity id as a JSON string: the auto key format reads it, the text format does not. */
        KEY_JSON_STRING(5, Expect.EITHER),
        NULL_VALUE(15, Expect.DEAD_LETTER),
        EVENT_TYPE_OUT_OF_RANGE(15, Expect.DEAD_LETTER),
        LABEL_OUT_OF_RANGE(10, Expect.DEAD_LETTER),
        FEATURE_INDEX_OUT_OF_RANGE(15, Expect.DEAD_LETTER),
        FEATURE_INDICES_NOT_INCREASING(10, Expect.DEAD_LETTER),
        FEATURE_LENGTH_MISMATCH(10, Expect.DEAD_LETTER),
        TOO_MANY_FEATURES(5, Expect.DEAD_LETTER),
        NON_FINITE_FEATURE(15, Expect.DEAD_LETTER),
        EVENT_TIME_NEGATIVE(10, Expect.DEAD_LETTER),
        EVENT_TIME_MAX(10, Expect.DEAD_LETTER),
        EVENT_TIME_FAR_FUTURE(10, Expect.DEAD_LETTER),
        EVENT_TIME_OUT_OF_ORDER(15, Expect.DEAD_LETTER),
        RECORD_TIME_NEGATIVE(6, Expect.DEAD_LETTER),
        RECORD_TIME_NEAR_FUTURE(8, Expect.TRAIN),
        RECORD_TIME_BEYOND_BROKER_LIMIT(0, Expect.BROKER_REFUSES),
        HEADERS_MANY(2, Expect.TRAIN),
        HEADER_HUGE(2, Expect.TRAIN),
        HEADER_NULL_VALUE(5, Expect.TRAIN),
        HEADER_EMPTY_NAME(5, Expect.TRAIN),
        HEADERS_SPOOFING_A_DEAD_LETTER(5, Expect.TRAIN),
        SPOOFED_DEAD_LETTER_HEADERS_ON_A_BAD_RECORD(5, Expect.DEAD_LETTER),
        VALUE_LARGE(2, Expect.DEAD_LETTER),
        VALUE_NEAR_BROKER_LIMIT(0, Expect.DEAD_LETTER),
        VALUE_OVER_BROKER_LIMIT(0, Expect.BROKER_REFUSES);

        final int weight;
        final Expect expect;

        Kind(final int weight, final Expect expect) {
            this.weight = weight;
            this.expect = expect;
        }

        /** The kind's name in figures: {@code BIT_FLIP} is {@code bit-flip}. */
        String figureName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * One record to send.
     *
     * @param kind the mutation that made it
     * @param key key bytes, may be null
     * @param value value bytes, may be null
     * @param headers headers, never null
     * @param timestampMs the record's timestamp, or null for the producer's clock; a negative one must be sent raw
     */
    record Attack(Kind kind, byte[] key, byte[] value, Header[] headers, Long timestampMs) {
        Expect expect() {
            return kind.expect;
        }

        /** The Java producer refuses negative timestamps; these go through {@link RawProducer}. */
        boolean needsRawProduce() {
            return timestampMs != null && timestampMs < 0;
        }
    }

    /** Just under the broker's default max.message.bytes (1,048,588) once the record's own overhead is added. */
    static final int NEAR_LIMIT_VALUE_BYTES = 1_048_300;
    private static final long EVENT_TIME_BASE = 1_700_000_000_000L;
    private static final int OWN_KEYS = 64;
    private static final int TRAINABLE_KEYS = 32;

    private final SplittableRandom random;
    private final Function<Event, byte[]> serialize;
    private final int vocabulary;
    private final int featureDimension;
    private final int maxFeatures;
    private final int[] otherSchemaIds;
    private final Kind[] drawn;
    /** The newest valid event of each key of the valid stream, as the campaign reports them. */
    private final Map<String, Event> lastValid = new HashMap<>();
    private final List<String> validKeys = new ArrayList<>();
    /** Event clocks of the keys kinds expected to train use: nothing else writes those keys. */
    private final long[] trainableClock = new long[TRAINABLE_KEYS];

    /**
     * @param serialize frames an event as the app's input (the registered Event schema's id, Avro binary)
     * @param otherSchemaIds ids of registered schemas other than Event's
     * @param excluded kinds {@link #next()} never draws
     */
    RecordMutator(final long seed, final Function<Event, byte[]> serialize, final int vocabulary,
                  final int featureDimension, final int maxFeatures, final int[] otherSchemaIds,
                  final Set<Kind> excluded) {
        this.random = new SplittableRandom(seed);
        this.serialize = serialize;
        this.vocabulary = vocabulary;
        this.featureDimension = featureDimension;
        this.maxFeatures = maxFeatures;
        this.otherSchemaIds = otherSchemaIds.clone();
        final List<Kind> weighted = new ArrayList<>();
        for (final Kind k : Kind.values()) {
            if (excluded.contains(k)) {
                continue;
            }
            for (int i = 0; i < k.weight; i++) {
                weighted.add(k);
            }
        }
        this.drawn = weighted.toArray(Kind[]::new);
        Arrays.fill(trainableClock, EVENT_TIME_BASE);
    }

    /** Tells the mutator the valid stream's newest event of a key (mutations of valid keys copy it). */
    void sawValid(final Event event) {
        if (lastValid.put(event.getEntityId(), event) == null) {
            validKeys.add(event.getEntityId());
        }
    }

    /** A record of a kind drawn by weight. */
    Attack next() {
        return make(drawn[random.nextInt(drawn.length)]);
    }

    /** A record of the given kind. */
    Attack make(final Kind kind) {
        final String own = "m-" + random.nextInt(OWN_KEYS);
        return switch (kind) {
            case BIT_FLIP -> {
                final byte[] v = framed(ownEvent(own));
                for (int i = 1 + random.nextInt(8); i > 0; i--) {
                    final int bit = random.nextInt(v.length * 8);
                    v[bit / 8] ^= (byte) (1 << (bit % 8));
                }
                yield attack(kind, own, v);
            }
            case BYTE_OVERWRITE -> {
                final byte[] v = framed(ownEvent(own));
                final byte[] choices = {0, (byte) 0xff, (byte) 0x80, 0x7f, 1};
                for (int i = 1 + random.nextInt(4); i > 0; i--) {
                    v[random.nextInt(v.length)] = random.nextBoolean() ? choices[random.nextInt(choices.length)]
                            : (byte) random.nextInt(256);
                }
                yield attack(kind, own, v);
            }
            case TRUNCATED -> {
                final byte[] v = framed(ownEvent(own));
                yield attack(kind, own, Arrays.copyOf(v, 5 + random.nextInt(v.length - 5)));
            }
            case TRAILING_BYTES -> {
                final byte[] v = framed(ownEvent(own));
                final byte[] longer = Arrays.copyOf(v, v.length + 1 + random.nextInt(64));
                yield attack(kind, own, longer);
            }
            case EMPTY_VALUE -> attack(kind, own, new byte[0]);
            case SHORTER_THAN_FRAME -> attack(kind, own, Arrays.copyOf(new byte[] {0, 0, 0, 0}, 1 + random.nextInt(4)));
            case WRONG_MAGIC_BYTE -> {
                final byte[] v = framed(ownEvent(own));
                v[0] = (byte) (1 + random.nextInt(255));
                yield attack(kind, own, v);
            }
            case SCHEMA_ID_UNKNOWN -> attack(kind, own, withSchemaId(framed(ownEvent(own)),
                    1_000 + random.nextInt(1_000_000)));
            case SCHEMA_ID_HUGE_OR_NEGATIVE -> {
                final int[] ids = {Integer.MAX_VALUE, Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE - 1, 1 << 30};
                yield attack(kind, own, withSchemaId(framed(ownEvent(own)), ids[random.nextInt(ids.length)]));
            }
            case SCHEMA_ID_OF_ANOTHER_SCHEMA -> attack(kind, own, withSchemaId(framed(ownEvent(own)),
                    otherSchemaIds[random.nextInt(otherSchemaIds.length)]));
            case STRING_LENGTH_HUGE -> attack(kind, own, replaceVarint(framed(ownEvent(own)), 5,
                    new long[] {Integer.MAX_VALUE, Long.MAX_VALUE, 1L << 40, 50_000_000}[random.nextInt(4)]));
            case STRING_LENGTH_NEGATIVE -> attack(kind, own, replaceVarint(framed(ownEvent(own)), 5,
                    new long[] {-1, -2, Integer.MIN_VALUE, Long.MIN_VALUE}[random.nextInt(4)]));
            case STRING_LENGTH_PAST_END -> {
                final byte[] v = framed(ownEvent(own));
                yield attack(kind, own, replaceVarint(v, 5, v.length));
            }
            case ARRAY_COUNT_HUGE -> {
                final byte[] v = framed(ownEvent(own));
                yield attack(kind, own, replaceVarint(v, indicesCountOffset(v),
                        new long[] {Integer.MAX_VALUE, Long.MAX_VALUE, 1L << 40, 100_000_000}[random.nextInt(4)]));
            }
            case ARRAY_COUNT_NEGATIVE -> {
                // a negative block count is followed by the block's byte size in Avro; both hostile here
                final byte[] v = framed(ownEvent(own));
                yield attack(kind, own, replaceVarint(v, indicesCountOffset(v),
                        new long[] {-1, Integer.MIN_VALUE, Long.MIN_VALUE, -100_000_000}[random.nextInt(4)]));
            }
            case KEY_NOT_UTF8 -> new Attack(kind, new byte[] {'m', (byte) 0xc3, 0x28, (byte) 0xff}, framed(ownEvent(own)),
                    new Header[0], null);
            case KEY_WITH_NUL -> new Attack(kind, (own + "\u0000x").getBytes(StandardCharsets.UTF_8),
                    framed(ownEvent(own + "\u0000x")), new Header[0], null);
            case KEY_EMPTY -> new Attack(kind, new byte[0], framed(ownEvent("")), new Header[0], null);
            case KEY_NULL -> new Attack(kind, null, framed(ownEvent(own)), new Header[0], null);
            case KEY_HUGE_MISMATCHED -> new Attack(kind, "k".repeat(200_000).getBytes(StandardCharsets.UTF_8),
                    framed(ownEvent(own)), new Header[0], null);
            case KEY_HUGE_MATCHING -> {
                final String huge = "h" + random.nextInt(4) + "-" + "k".repeat(100_000);
                yield new Attack(kind, huge.getBytes(StandardCharsets.UTF_8), framed(ownEvent(huge)), new Header[0],
                        null);
            }
            case KEY_ENTITY_MISMATCH -> {
                final String key = validKey();
                yield attack(kind, key, framed(copy(lastValid.get(key)).setEntityId(key + "-other").build()));
            }
            case KEY_FRAMED_GARBAGE -> {
                final byte[] key = new byte[5 + random.nextInt(40)];
                random.nextBytes(key);
                key[0] = 0;
                yield new Attack(kind, withSchemaId(key, 1_000 + random.nextInt(1_000_000)), framed(ownEvent(own)),
                        new Header[0], null);
            }
            case KEY_JSON_OBJECT -> new Attack(kind, ("{\"a\": \"" + own + "\", \"b\": 2}").getBytes(StandardCharsets.UTF_8),
                    framed(ownEvent(own)), new Header[0], null);
            case KEY_JSON_STRING -> new Attack(kind, ("\"" + own + "\"").getBytes(StandardCharsets.UTF_8),
                    framed(ownEvent(own)), new Header[0], null);
            case NULL_VALUE -> attack(kind, random.nextBoolean() ? own : validKey(), null);
            case EVENT_TYPE_OUT_OF_RANGE -> attack(kind, own, framed(copy(ownEvent(own)).setEventType(new int[] {
                    -1, vocabulary, Integer.MAX_VALUE, Integer.MIN_VALUE}[random.nextInt(4)]).build()));
            case LABEL_OUT_OF_RANGE -> attack(kind, own, framed(copy(ownEvent(own)).setLabel(new int[] {
                    -1, vocabulary, Integer.MAX_VALUE, Integer.MIN_VALUE}[random.nextInt(4)]).build()));
            case FEATURE_INDEX_OUT_OF_RANGE -> attack(kind, own, framed(copy(ownEvent(own)).setFeatures(features(
                    List.of(new int[] {-1, featureDimension, Integer.MAX_VALUE, Integer.MIN_VALUE}[random.nextInt(4)]),
                    List.of(1f))).build()));
            case FEATURE_INDICES_NOT_INCREASING -> attack(kind, own, framed(copy(ownEvent(own)).setFeatures(features(
                    random.nextBoolean() ? List.of(3, 3) : List.of(5, 2), List.of(1f, 1f))).build()));
            case FEATURE_LENGTH_MISMATCH -> attack(kind, own, framed(copy(ownEvent(own)).setFeatures(features(
                    List.of(1, 2), random.nextBoolean() ? List.of(1f) : List.of(1f, 1f, 1f))).build()));
            case TOO_MANY_FEATURES -> {
                final List<Integer> idx = new ArrayList<>();
                final List<Float> val = new ArrayList<>();
                for (int i = 0; i <= maxFeatures; i++) {
                    idx.add(i);
                    val.add(1f);
                }
                yield attack(kind, own, framed(copy(ownEvent(own)).setFeatures(features(idx, val)).build()));
            }
            case NON_FINITE_FEATURE -> attack(kind, own, framed(copy(ownEvent(own)).setFeatures(features(List.of(1),
                    List.of(new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}[random.nextInt(3)])))
                    .build()));
            case EVENT_TIME_NEGATIVE -> attack(kind, own, framed(copy(ownEvent(own)).setTimestampMs(
                    new long[] {-1, -5, Long.MIN_VALUE}[random.nextInt(3)]).build()));
            case EVENT_TIME_MAX -> {
                // on a key of the valid stream: trained, it would put every later event of that key out of order
                final String key = validKey();
                yield attack(kind, key, framed(copy(lastValid.get(key)).setTimestampMs(Long.MAX_VALUE).build()));
            }
            case EVENT_TIME_FAR_FUTURE -> {
                final String key = validKey();
                yield attack(kind, key, framed(copy(lastValid.get(key)).setTimestampMs(System.currentTimeMillis()
                        + 100L * 365 * 24 * 3600 * 1000).build()));
            }
            case EVENT_TIME_OUT_OF_ORDER -> {
                final String key = validKey();
                final Event last = lastValid.get(key);
                yield attack(kind, key, framed(copy(last).setTimestampMs(last.getTimestampMs() - 1
                        - random.nextInt(1000)).build()));
            }
            case RECORD_TIME_NEGATIVE -> {
                // on a key of the valid stream, a copy of its newest event (harmless if trained: same event time)
                final String key = random.nextBoolean() ? validKey() : own;
                final byte[] value = key.equals(own) ? framed(ownEvent(own)) : framed(lastValid.get(key));
                // (Long.MIN_VALUE is refused by the broker: INVALID_TIMESTAMP)
                yield new Attack(kind, key.getBytes(StandardCharsets.UTF_8), value, new Header[0],
                        new long[] {-5, -1, -2, -1000}[random.nextInt(4)]);
            }
            case RECORD_TIME_NEAR_FUTURE -> trainable(kind, new Header[0],
                    System.currentTimeMillis() + 50 * 60_000L);
            case RECORD_TIME_BEYOND_BROKER_LIMIT -> new Attack(kind, own.getBytes(StandardCharsets.UTF_8),
                    framed(ownEvent(own)), new Header[0], random.nextBoolean() ? Long.MAX_VALUE
                    : System.currentTimeMillis() + 10L * 365 * 24 * 3600 * 1000);
            case HEADERS_MANY -> {
                final Header[] many = new Header[2_000];
                for (int i = 0; i < many.length; i++) {
                    many[i] = new RecordHeader("h" + i, new byte[] {(byte) i});
                }
                yield trainable(kind, many, null);
            }
            case HEADER_HUGE -> trainable(kind, new Header[] {new RecordHeader("huge", new byte[200_000])}, null);
            case HEADER_NULL_VALUE -> trainable(kind, new Header[] {new RecordHeader("null", null)}, null);
            case HEADER_EMPTY_NAME -> trainable(kind, new Header[] {new RecordHeader("", new byte[] {(byte) 0xff, 0})},
                    null);
            case HEADERS_SPOOFING_A_DEAD_LETTER -> trainable(kind, spoofedDeadLetterHeaders(), null);
            case SPOOFED_DEAD_LETTER_HEADERS_ON_A_BAD_RECORD -> new Attack(kind, own.getBytes(StandardCharsets.UTF_8),
                    null, spoofedDeadLetterHeaders(), null);
            case VALUE_LARGE -> {
                final byte[] v = new byte[300_000 + random.nextInt(100_000)];
                random.nextBytes(v);
                v[0] = 0;
                yield attack(kind, own, v);
            }
            case VALUE_NEAR_BROKER_LIMIT -> attack(kind, own, sized(NEAR_LIMIT_VALUE_BYTES, own));
            case VALUE_OVER_BROKER_LIMIT -> attack(kind, own, sized(1_100_000, own));
        };
    }

    private String validKey() {
        return validKeys.get(random.nextInt(validKeys.size()));
    }

    private static Attack attack(final Kind kind, final String key, final byte[] value) {
        return new Attack(kind, key.getBytes(StandardCharsets.UTF_8), value, new Header[0], null);
    }

    /** A valid event on a key only kinds expected to train use, in order on that key's own clock. */
    private Attack trainable(final Kind kind, final Header[] headers, final Long timestampMs) {
        final int k = random.nextInt(TRAINABLE_KEYS);
        trainableClock[k] += 1 + random.nextInt(1000);
        final String key = "t-" + k;
        final Event e = copy(ownEvent(key)).setTimestampMs(trainableClock[k]).build();
        return new Attack(kind, key.getBytes(StandardCharsets.UTF_8), framed(e), headers, timestampMs);
    }

    /** Headers that claim the record is a dead letter from elsewhere: the app must not trust or keep them. */
    private static Header[] spoofedDeadLetterHeaders() {
        return new Header[] {new RecordHeader("spillway.dlq.reason", "spoofed".getBytes(StandardCharsets.UTF_8)),
                new RecordHeader("spillway.dlq.source.partition", "99".getBytes(StandardCharsets.UTF_8)),
                new RecordHeader("spillway.dlq.source.offset", "-7".getBytes(StandardCharsets.UTF_8))};
    }

    /** A plausible event of a key: valid for the model, with a random time (ordering on such keys is not tested). */
    private Event ownEvent(final String key) {
        final int type = random.nextInt(vocabulary);
        final int a = random.nextInt(featureDimension - 1);
        return Event.newBuilder().setEntityId(key).setTimestampMs(EVENT_TIME_BASE + random.nextInt(1_000_000_000))
                .setEventType(type).setFeatures(features(List.of(a, a + 1), List.of(1f, (float) random.nextDouble())))
                .setLabel(random.nextInt(4) == 0 ? random.nextInt(vocabulary) : null).build();
    }

    private static Event.Builder copy(final Event e) {
        return Event.newBuilder(e);
    }

    private static SparseVector features(final List<Integer> indices, final List<Float> values) {
        return SparseVector.newBuilder().setIndices(new ArrayList<>(indices)).setValues(new ArrayList<>(values)).build();
    }

    private byte[] framed(final Event e) {
        return serialize.apply(e);
    }

    /** A framed event padded (in its entity id) to exactly {@code bytes}. */
    private byte[] sized(final int bytes, final String key) {
        int padding = bytes - 64;
        byte[] v = framed(copy(ownEvent(key)).setEntityId("x".repeat(padding)).build());
        padding += bytes - v.length; // the length prefix keeps its size near 1 MB
        v = framed(copy(ownEvent(key)).setEntityId("x".repeat(padding)).build());
        return v;
    }

    private static byte[] withSchemaId(final byte[] framed, final int id) {
        framed[1] = (byte) (id >>> 24);
        framed[2] = (byte) (id >>> 16);
        framed[3] = (byte) (id >>> 8);
        framed[4] = (byte) id;
        return framed;
    }

    /** Offset of the features' indices array block count: after entityId (string), timestampMs and eventType. */
    private static int indicesCountOffset(final byte[] framed) {
        int at = 5;
        final long[] read = readVarint(framed, at);
        at = (int) read[1] + (int) read[0]; // the string's bytes
        at = (int) readVarint(framed, at)[1]; // timestampMs
        at = (int) readVarint(framed, at)[1]; // eventType
        return at;
    }

    /** Replaces the Avro (zig-zag) varint at {@code offset} with {@code value}. */
    private static byte[] replaceVarint(final byte[] framed, final int offset, final long value) {
        final int end = (int) readVarint(framed, offset)[1];
        final ByteArrayOutputStream out = new ByteArrayOutputStream(framed.length + 10);
        out.write(framed, 0, offset);
        long zigzag = (value << 1) ^ (value >> 63);
        while ((zigzag & ~0x7FL) != 0) {
            out.write((int) ((zigzag & 0x7F) | 0x80));
            zigzag >>>= 7;
        }
        out.write((int) zigzag);
        out.write(framed, end, framed.length - end);
        return out.toByteArray();
    }

    /** The zig-zag varint at {@code offset}: {value, offset after it}. */
    private static long[] readVarint(final byte[] b, final int offset) {
        long raw = 0;
        int shift = 0;
        int at = offset;
        while (true) {
            final int x = b[at++] & 0xff;
            raw |= (long) (x & 0x7f) << shift;
            if ((x & 0x80) == 0) {
                break;
            }
            shift += 7;
        }
        return new long[] {(raw >>> 1) ^ -(raw & 1), at};
    }
}
