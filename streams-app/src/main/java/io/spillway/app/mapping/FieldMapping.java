package io.spillway.app.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.utils.Utils;

/**
 * Where the learner's inputs are in the user's record, read from a small properties file:
 *
 * <pre>
 * entity = $key            # the record key (default), or a field path
 * time = $timestamp        # the record's timestamp (default), or a field path
 * time.unit = millis       # plain numbers in the time field: millis (default), micros, nanos or seconds
 * type = page              # the event type: an int field, or a text/enum field through type.vocabulary
 * type.vocabulary = hash   # text and enum symbols become ids: hash (Kafka's murmur2 mod --vocabulary), or
 *                          # dictionary (first-seen order, kept durably by the topology: {@link Categories})
 * label = outcome          # optional: an int field, or text/enum through label.vocabulary
 * features = dwell,tags    # optional: numeric fields, an array of numbers, a map of numbers, comma-separated
 * </pre>
 *
 * Paths are dotted (a.b.c) through Avro records, Avro maps and JSON objects. Fields the mapping does not name are
 * ignored, so a schema version that adds a field keeps training. Immutable and thread-safe.
 */
public final class FieldMapping {
    /** {@code entity}: the record key. */
    public static final String KEY = "$key";
    /** {@code time}: the record's timestamp. */
    public static final String RECORD_TIMESTAMP = "$timestamp";
    private static final Set<String> KEYS = Set.of("entity", "time", "time.unit", "type", "type.vocabulary", "label",
            "label.vocabulary", "features");

    /** How text and enum categories become ids. */
    public enum Vocabulary {
        /** None configured: a text or enum field is refused with a reason naming the setting. */
        NONE,
        /** Kafka's murmur2 of the category's UTF-8 bytes (a fixed seed), mod the vocabulary size: stateless. */
        HASH,
        /** Exact ids in first-seen order from a durable dictionary ({@link Categories}), one for type and label. */
        DICTIONARY
    }

    /** The ids of text categories under {@link Vocabulary#DICTIONARY}: the dictionary the topology keeps. */
    @FunctionalInterface
    public interface Categories {
        /** @return the category's id in {@code [0, vocabularySize)} (an overflow class once the dictionary is full) */
        int id(String category);
    }

    /**
     * Spillway's own {@code Event} written as a JSON object (or as an Avro record of another schema with its fields):
     * {@code entityId} (equal to the key), {@code timestampMs}, {@code eventType}, {@code features} as
     * {@code {indices, values}}, optional {@code label}.
     */
    public static final FieldMapping EVENT = new FieldMapping(null, FieldPath.parse("timestampMs"),
            TimeUnit.MILLISECONDS, FieldPath.parse("eventType"), Vocabulary.NONE, FieldPath.parse("label"),
            Vocabulary.NONE, List.of(FieldPath.parse("features")), FieldPath.parse("entityId"));

    private final FieldPath entity;
    private final FieldPath time;
    private final TimeUnit timeUnit;
    private final FieldPath type;
    private final Vocabulary typeVocabulary;
    private final FieldPath label;
    private final Vocabulary labelVocabulary;
    private final List<FieldPath> features;
    /** EVENT only: the value's own entity id, which must equal the key. */
    private final FieldPath checkedEntity;

    private FieldMapping(final FieldPath entity, final FieldPath time, final TimeUnit timeUnit, final FieldPath type,
                         final Vocabulary typeVocabulary, final FieldPath label, final Vocabulary labelVocabulary,
                         final List<FieldPath> features, final FieldPath checkedEntity) {
        this.entity = entity;
        this.time = time;
        this.timeUnit = timeUnit;
        this.type = type;
        this.typeVocabulary = typeVocabulary;
        this.label = label;
        this.labelVocabulary = labelVocabulary;
        this.features = List.copyOf(features);
        this.checkedEntity = checkedEntity;
    }

    /** Reads a mapping file (UTF-8 properties). */
    public static FieldMapping load(final Path file) throws IOException {
        final Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        }
        try {
            return parse(p);
        } catch (final IllegalArgumentException e) {
            throw new IllegalArgumentException("mapping " + file + ": " + e.getMessage(), e);
        }
    }

    /** @throws IllegalArgumentException for unknown keys, a missing {@code type}, bad paths or values */
    public static FieldMapping parse(final Properties p) {
        final List<String> unknown = p.stringPropertyNames().stream().filter(k -> !KEYS.contains(k)).sorted().toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown mapping keys " + unknown + " (known: " + new java.util.TreeSet<>(KEYS) + ")");
        }
        final String type = value(p, "type");
        if (type == null) {
            throw new IllegalArgumentException("'type' (the field holding the event type) is required");
        }
        final String entity = value(p, "entity");
        final String time = value(p, "time");
        final String label = value(p, "label");
        final String features = value(p, "features");
        final List<FieldPath> featurePaths = new ArrayList<>();
        if (features != null) {
            for (final String f : features.split(",")) {
                featurePaths.add(FieldPath.parse(f.strip()));
            }
        }
        return new FieldMapping(entity == null || entity.equals(KEY) ? null : FieldPath.parse(entity),
                time == null || time.equals(RECORD_TIMESTAMP) ? null : FieldPath.parse(time),
                timeUnit(value(p, "time.unit")), FieldPath.parse(type), vocabulary(p, "type.vocabulary"),
                label == null ? null : FieldPath.parse(label), vocabulary(p, "label.vocabulary"), featurePaths, null);
    }

    private static String value(final Properties p, final String key) {
        final String v = p.getProperty(key);
        return v == null || v.isBlank() ? null : v.strip();
    }

    private static TimeUnit timeUnit(final String unit) {
        if (unit == null) {
            return TimeUnit.MILLISECONDS;
        }
        return switch (unit.toLowerCase(Locale.ROOT)) {
            case "millis", "ms", "milliseconds" -> TimeUnit.MILLISECONDS;
            case "micros", "us", "microseconds" -> TimeUnit.MICROSECONDS;
            case "nanos", "ns", "nanoseconds" -> TimeUnit.NANOSECONDS;
            case "seconds", "s" -> TimeUnit.SECONDS;
            default -> throw new IllegalArgumentException("time.unit must be millis, micros, nanos or seconds: " + unit);
        };
    }

    private static Vocabulary vocabulary(final Properties p, final String key) {
        final String v = value(p, key);
        if (v == null) {
            return Vocabulary.NONE;
        }
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "hash" -> Vocabulary.HASH;
            case "dictionary" -> Vocabulary.DICTIONARY;
            default -> throw new IllegalArgumentException(key + " must be hash or dictionary: " + v);
        };
    }

    /** @return whether a text category becomes an id through the durable dictionary ({@link Categories}) */
    public boolean usesDictionary() {
        return typeVocabulary == Vocabulary.DICTIONARY || labelVocabulary == Vocabulary.DICTIONARY;
    }

    /** @return whether the entity id is the record key (else a field of the value, and the key may be absent) */
    public boolean entityFromKey() {
        return entity == null;
    }

    /**
     * Maps one record.
     *
     * @param root the value: a GenericRecord or a JsonNode object
     * @param key the record key as decoded (the entity id when {@link #entityFromKey}), may be null otherwise
     * @param recordTimestampMs the record's timestamp
     * @param vocabularySize the learner's number of event types: hashed categories fall in [0, vocabularySize)
     * @param featureDimension the learner's feature dimension: hashed map entries fall below it
     * @return the event the learner trains on (checked afterwards as any Event is)
     * @throws MappingException naming the field and the reason when the record does not fit the mapping
     */
    public Event map(final Object root, final String key, final long recordTimestampMs, final int vocabularySize,
                     final int featureDimension) throws MappingException {
        return map(root, key, recordTimestampMs, vocabularySize, featureDimension, null);
    }

    /**
     * Maps one record, text categories of a {@link Vocabulary#DICTIONARY} vocabulary through {@code categories}.
     * The categories are looked up last, once the rest of the record has mapped, so a record that fails to map
     * asks the dictionary nothing.
     *
     * @param categories the dictionary; null when the mapping has none ({@link #usesDictionary} false)
     */
    public Event map(final Object root, final String key, final long recordTimestampMs, final int vocabularySize,
                     final int featureDimension, final Categories categories) throws MappingException {
        if (usesDictionary() && categories == null) {
            throw new IllegalStateException("a dictionary vocabulary needs the dictionary (Categories)");
        }
        final String entityId;
        if (checkedEntity != null) {
            entityId = text(checkedEntity, checkedEntity.resolve(root), true);
        } else if (entity != null) {
            entityId = text(entity, entity.resolve(root), false);
            if (entityId.isEmpty() || entityId.indexOf('\u0000') >= 0) {
                throw new MappingException(entity.toString(), "gives an empty entity id or one with NUL characters");
            }
        } else {
            entityId = key;
        }
        final long timestampMs = time == null ? recordTimestampMs
                : EventTimes.toMillis(time.toString(), time.resolve(root), timeUnit);
        final Category eventType = category(type, type.resolve(root), typeVocabulary, vocabularySize, false);
        Category labelValue = null;
        if (label != null) {
            final FieldPath.Found found = optional(label, root);
            if (found != null && found.value() != null) {
                labelValue = category(label, found, labelVocabulary, vocabularySize, true);
            }
        }
        final SparseVector featureVector = features(root, featureDimension);
        // type before label: the order a record's new categories take dictionary ids in
        final int typeId = eventType.id(categories);
        final Integer labelId = labelValue == null ? null : labelValue.id(categories);
        return Event.newBuilder().setEntityId(entityId).setTimestampMs(timestampMs).setEventType(typeId)
                .setFeatures(featureVector).setLabel(labelId).build();
    }

    /** An optional field: absent (an older schema version) or null reads as null. */
    private static FieldPath.Found optional(final FieldPath path, final Object root) {
        try {
            return path.resolve(root);
        } catch (final MappingException e) {
            return null;
        }
    }

    private static String text(final FieldPath path, final FieldPath.Found found, final boolean textOnly)
            throws MappingException {
        final Object v = found.value();
        if (v == null) {
            throw new MappingException(path.toString(), "is null: no entity id");
        }
        if (v instanceof CharSequence || v instanceof GenericData.EnumSymbol) {
            return v.toString();
        }
        if (!textOnly && (v instanceof Integer || v instanceof Long)) {
            return v.toString();
        }
        if (v instanceof JsonNode n && (n.isTextual() || !textOnly && n.isIntegralNumber())) {
            return n.asText();
        }
        throw new MappingException(path.toString(), "is not text or an integer: " + EventTimes.describe(found));
    }

    /** A read category: an id already, or text whose id a dictionary gives. */
    private record Category(int id, String dictionaryText) {
        int id(final Categories categories) {
            return dictionaryText == null ? id : categories.id(dictionaryText);
        }
    }

    private static Category category(final FieldPath path, final FieldPath.Found found, final Vocabulary vocabulary,
                                     final int vocabularySize, final boolean isLabel) throws MappingException {
        final Object v = found.value();
        if (v == null) {
            throw new MappingException(path.toString(), "is null: no event type");
        }
        final String what = isLabel ? "label" : "type";
        if (v instanceof Integer || v instanceof Long) {
            return new Category(toInt(path, ((Number) v).longValue()), null);
        }
        if (v instanceof JsonNode n && n.isIntegralNumber()) {
            if (!n.canConvertToLong()) {
                throw new MappingException(path.toString(), "is out of range: " + n.asText());
            }
            return new Category(toInt(path, n.longValue()), null);
        }
        final String category = v instanceof CharSequence || v instanceof GenericData.EnumSymbol ? v.toString()
                : v instanceof JsonNode n && n.isTextual() ? n.textValue() : null;
        if (category == null) {
            throw new MappingException(path.toString(), "is not an integer, text or enum: " + EventTimes.describe(found));
        }
        if (vocabulary == Vocabulary.NONE) {
            throw new MappingException(path.toString(), "is text ('" + EventTimes.abbreviate(category)
                    + "'): set " + what + ".vocabulary=hash (or dictionary) in the mapping to turn categories into ids");
        }
        if (vocabulary == Vocabulary.DICTIONARY) {
            return new Category(-1, category);
        }
        return new Category(hash(category, vocabularySize), null);
    }

    /** The id of a category under {@link Vocabulary#HASH}: Kafka's murmur2 (fixed seed) of its UTF-8 bytes. */
    public static int hash(final String category, final int vocabularySize) {
        return Utils.toPositive(Utils.murmur2(category.getBytes(StandardCharsets.UTF_8))) % vocabularySize;
    }

    private static int toInt(final FieldPath path, final long value) throws MappingException {
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw new MappingException(path.toString(), "is out of range: " + value);
        }
        return (int) value;
    }

    /**
     * The features, in the order the mapping lists their fields: a number takes the next index (a null one leaves
     * its index empty, so later indices do not move), an array of numbers the next indices, one per element; a map
     * of numbers (or a {@code {indices, values}} sparse vector) must come last: its entries are hashed over the
     * indices left (Kafka's murmur2 of {@code path=key}; colliding entries add up).
     */
    private SparseVector features(final Object root, final int featureDimension) throws MappingException {
        final TreeMap<Integer, Float> out = new TreeMap<>();
        int next = 0;
        for (int f = 0; f < features.size(); f++) {
            final FieldPath path = features.get(f);
            final boolean last = f == features.size() - 1;
            final FieldPath.Found found = checkedEntity != null ? path.resolve(root) : optionalFeature(path, root);
            final Object v = found == null ? null : found.value();
            if (v == null) {
                next++;
                continue;
            }
            final Float number = number(v);
            if (number != null) {
                put(out, next++, number);
            } else if (v instanceof Collection<?> list) {
                for (final Object element : list) {
                    put(out, next++, element(path, element));
                }
            } else if (v instanceof JsonNode n && n.isArray()) {
                for (final JsonNode element : n) {
                    put(out, next++, element(path, element));
                }
            } else if (isSparse(v)) {
                sparse(path, v, next, featureDimension, out, last);
                next = featureDimension;
            } else if (v instanceof Map<?, ?> || v instanceof JsonNode n && n.isObject()) {
                if (!last) {
                    throw new MappingException(path.toString(), "is a map: list it last in 'features'");
                }
                if (next >= featureDimension) {
                    throw new MappingException(path.toString(), "is a map but no feature index is left below "
                            + featureDimension);
                }
                final Iterable<Map.Entry<String, Object>> entries = entries(v);
                for (final Map.Entry<String, Object> e : entries) {
                    final float value = element(path, e.getValue());
                    final int index = next + Utils.toPositive(Utils.murmur2((path + "=" + e.getKey())
                            .getBytes(StandardCharsets.UTF_8))) % (featureDimension - next);
                    out.merge(index, value, Float::sum);
                }
                next = featureDimension;
            } else {
                throw new MappingException(path.toString(), "is not a number, an array or a map of numbers: "
                        + EventTimes.describe(found));
            }
        }
        final List<Integer> indices = new ArrayList<>(out.size());
        final List<Float> values = new ArrayList<>(out.size());
        out.forEach((i, v) -> {
            if (v != 0f) {
                indices.add(i);
                values.add(v);
            }
        });
        return SparseVector.newBuilder().setIndices(indices).setValues(values).build();
    }

    /** A feature field missing from this record (an older schema version) is empty, as a null one is. */
    private static FieldPath.Found optionalFeature(final FieldPath path, final Object root) {
        return optional(path, root);
    }

    private static void put(final TreeMap<Integer, Float> out, final int index, final float value) {
        out.merge(index, value, Float::sum);
    }

    private static Float number(final Object v) {
        if (v instanceof Number n) {
            return n.floatValue();
        }
        if (v instanceof Boolean b) {
            return b ? 1f : 0f;
        }
        if (v instanceof JsonNode n && (n.isNumber() || n.isBoolean())) {
            return n.isBoolean() ? (n.booleanValue() ? 1f : 0f) : n.floatValue();
        }
        return null;
    }

    private static float element(final FieldPath path, final Object element) throws MappingException {
        final Float number = element == null ? null : number(element);
        if (number == null) {
            throw new MappingException(path.toString(), "holds an element that is not a number");
        }
        return number;
    }

    private static boolean isSparse(final Object v) {
        if (v instanceof GenericRecord r) {
            return r.getSchema().getFields().size() == 2 && r.getSchema().getField("indices") != null
                    && r.getSchema().getField("values") != null;
        }
        return v instanceof JsonNode n && n.isObject() && n.size() == 2 && n.has("indices") && n.has("values");
    }

    /** Indices as given (shifted past the fields before it), values as given: Spillway's SparseVector. */
    private static void sparse(final FieldPath path, final Object v, final int offset, final int featureDimension,
                               final TreeMap<Integer, Float> out, final boolean last) throws MappingException {
        if (!last) {
            throw new MappingException(path.toString(), "is a sparse vector: list it last in 'features'");
        }
        final List<Object> indices = list(v instanceof GenericRecord r ? r.get("indices") : ((JsonNode) v).get("indices"));
        final List<Object> values = list(v instanceof GenericRecord r ? r.get("values") : ((JsonNode) v).get("values"));
        if (indices == null || values == null || indices.size() != values.size()) {
            throw new MappingException(path.toString(), "is a sparse vector whose indices and values differ in length");
        }
        int previous = -1;
        for (int i = 0; i < indices.size(); i++) {
            final Object raw = indices.get(i);
            final long index = raw instanceof Number n ? n.longValue()
                    : raw instanceof JsonNode n && n.isIntegralNumber() ? n.longValue() : -1;
            if (index < 0 || index + offset >= featureDimension || index <= previous) {
                throw new MappingException(path.toString() + ".indices", "holds index " + raw + ": indices must be "
                        + "increasing integers in [0, " + (featureDimension - offset) + ")");
            }
            previous = (int) index;
            out.put((int) index + offset, element(path, values.get(i)));
        }
    }

    private static List<Object> list(final Object v) {
        if (v instanceof List<?> l) {
            return new ArrayList<>(l);
        }
        if (v instanceof JsonNode n && n.isArray()) {
            final List<Object> out = new ArrayList<>(n.size());
            n.forEach(out::add);
            return out;
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static Iterable<Map.Entry<String, Object>> entries(final Object v) {
        final List<Map.Entry<String, Object>> out = new ArrayList<>();
        if (v instanceof Map<?, ?> m) {
            m.forEach((k, value) -> out.add(Map.entry(String.valueOf(k), value)));
        } else {
            ((JsonNode) v).fields().forEachRemaining(e -> out.add(Map.entry(e.getKey(), e.getValue())));
        }
        return out;
    }

    @Override
    public String toString() {
        return "entity=" + (entity == null ? (checkedEntity == null ? KEY : checkedEntity + " (= key)") : entity)
                + ", time=" + (time == null ? RECORD_TIMESTAMP : time) + ", type=" + type
                + (label == null ? "" : ", label=" + label) + (features.isEmpty() ? "" : ", features="
                + String.join(",", features.stream().map(FieldPath::toString).toList()));
    }
}
