package io.spillway.app.vocabulary;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the published dictionary ({@link VocabularyTopic}, {@code read_committed}) to give an id's category: for
 * the trainer's predictions, or any replica that serves the model. An id is committed in the transaction of the
 * first chunk that uses it, so a reader that has that chunk finds the id by reading the topic to its end; the
 * reader reads on only when asked for an id it does not know yet.
 *
 * <p>Thread-safe (calls are serialised).
 */
public final class VocabularyReader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VocabularyReader.class);
    /** How long one look for a missing id may take. */
    private static final Duration CATCH_UP = Duration.ofSeconds(5);
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final int unknownId;
    private final Map<Integer, String> categories = new HashMap<>();
    private final Map<String, Integer> idsByCategory = new HashMap<>();
    private TopicPartition partition;

    /**
     * @param client the Kafka client settings (bootstrap servers, security)
     * @param vocabularySize the learner's vocabulary: its last id is the overflow class, which has no category
     */
    public VocabularyReader(final Map<String, Object> client, final String topic, final int vocabularySize) {
        final Map<String, Object> props = new HashMap<>(client);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.topic = topic;
        this.unknownId = vocabularySize - 1;
    }

    /** @return the id's category; null for the overflow class, or an id the topic does not hold (yet) */
    public synchronized String category(final int id) {
        if (id < 0 || id >= unknownId) {
            return null;
        }
        String c = categories.get(id);
        if (c == null) {
            catchUp();
            c = categories.get(id);
        }
        return c;
    }

    /**
     * The categories of many ids at once, reading on (once) only when one of them is missing: a step's predictions
     * ask here, and an untrained model predicts ids no category has taken yet.
     *
     * @return each id's category, null for the overflow class or an id the topic does not hold
     */
    public synchronized String[] categories(final int[] ids) {
        boolean missing = false;
        for (final int id : ids) {
            missing |= id >= 0 && id < unknownId && !categories.containsKey(id);
        }
        if (missing) {
            catchUp();
        }
        final String[] out = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = ids[i] < 0 || ids[i] >= unknownId ? null : categories.get(ids[i]);
        }
        return out;
    }

    /**
     * The categories of ids as read so far, without reading on (see {@link #readOn}): null for the overflow class
     * and for an id not read yet.
     */
    public synchronized String[] knownCategories(final int[] ids) {
        final String[] out = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = categories.get(ids[i]);
        }
        return out;
    }

    /**
     * The id the dictionary gives a category, as read so far, without reading on (see {@link #readOn}).
     *
     * @return the id, or -1 for a category not read (yet): the trainer has not seen it, or it took the overflow class
     */
    public synchronized int knownId(final String category) {
        final Integer id = idsByCategory.get(category);
        return id == null ? -1 : id;
    }

    /**
     * Reads the topic on to its committed end, for callers that rate their own reading on ({@link #knownId},
     * {@link #knownCategories}).
     */
    public synchronized void readOn() {
        catchUp();
    }

    /** The topic read. */
    public String topic() {
        return topic;
    }

    /** Categories read so far (without reading on). */
    public synchronized int size() {
        return categories.size();
    }

    /** The learner's overflow class: the last id, which no category owns. */
    public int unknownId() {
        return unknownId;
    }

    /** The whole dictionary as read so far, after reading the topic to its end: id to category. */
    public synchronized Map<Integer, String> all() {
        catchUp();
        return Map.copyOf(categories);
    }

    /** Reads the topic to its committed end (or for {@link #CATCH_UP} at most). */
    private void catchUp() {
        if (partition == null) {
            final List<PartitionInfo> info = consumer.partitionsFor(topic, CATCH_UP);
            if (info == null || info.isEmpty()) {
                return; // the topology has not created it yet
            }
            partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
        }
        final long deadline = System.nanoTime() + CATCH_UP.toNanos();
        final long end = consumer.endOffsets(List.of(partition), CATCH_UP).getOrDefault(partition, 0L);
        while (consumer.position(partition, CATCH_UP) < end && System.nanoTime() < deadline) {
            for (final ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                if (r.key() == null || r.value() == null) {
                    continue;
                }
                try {
                    final int id = VocabularyTopic.id(r.value());
                    if (id < 0 || id >= unknownId) {
                        throw new IllegalArgumentException("id " + id + " is outside [0, " + unknownId + ")");
                    }
                    final String category = VocabularyTopic.category(r.key());
                    categories.put(id, category);
                    idsByCategory.put(category, id);
                } catch (final IllegalArgumentException e) {
                    LOG.warn("Skipping vocabulary record at offset {}: {}", r.offset(), e.getMessage());
                }
            }
        }
    }

    @Override
    public synchronized void close() {
        consumer.close();
    }
}
