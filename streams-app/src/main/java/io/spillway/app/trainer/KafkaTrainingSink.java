package io.spillway.app.trainer;

import io.spillway.schemas.serde.SerdeException;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Produces the trainer's records (Confluent-wire-format Avro, schemas registered under TopicNameStrategy)
 * with an idempotent producer ({@code acks=all}), so a retried send never duplicates a delta. Made with a
 * transactional id (split training), it publishes each step's records and the chunk-log offsets the step consumed
 * in one transaction: a step is trained, as far as every reader knows, exactly when its records are committed.
 */
public final class KafkaTrainingSink implements TrainingSink {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaTrainingSink.class);
    private final KafkaProducer<byte[], byte[]> producer;
    /** Keys are serialized here, not in the producer, so that an unreachable registry is waited for (Avro keys). */
    private final org.apache.kafka.common.serialization.Serializer<String> keys;
    private final Map<String, Object> serdeConfig;
    private final Map<Class<?>, SpecificAvroSerializer<SpecificRecord>> serializers = new HashMap<>();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final java.util.concurrent.atomic.AtomicLong registryWaits = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean closed;
    /** The chunk log whose positions the transactions commit; null for a non-transactional sink. */
    private final KafkaChunkGroup consumed;

    /**
     * @param clientConfig Kafka client settings (bootstrap servers, security); producer settings are added
     * @param serdeConfig serializer settings (the registry URL and its credentials)
     */
    public KafkaTrainingSink(final Map<String, Object> clientConfig, final Map<String, Object> serdeConfig) {
        this(clientConfig, serdeConfig, false);
    }

    /**
     * @param avroKeys write keys as Confluent-framed Avro strings (for clients that decode every key as Avro), not
     *        UTF-8 text
     */
    public KafkaTrainingSink(final Map<String, Object> clientConfig, final Map<String, Object> serdeConfig,
                             final boolean avroKeys) {
        this(clientConfig, serdeConfig, null, null, avroKeys);
    }

    /**
     * A transactional sink (split training), whose transactions commit the trainer's positions in {@code consumed}.
     *
     * @param transactionalId the producer's transactional id (stable per instance, so a restart fences the
     *        previous process)
     * @param consumed the chunk log the trainer reads, as a member of its group
     */
    public static KafkaTrainingSink transactional(final Map<String, Object> clientConfig,
                                                  final Map<String, Object> serdeConfig, final String transactionalId,
                                                  final KafkaChunkGroup consumed, final boolean avroKeys) {
        return new KafkaTrainingSink(clientConfig, serdeConfig, java.util.Objects.requireNonNull(transactionalId),
                java.util.Objects.requireNonNull(consumed), avroKeys);
    }

    private KafkaTrainingSink(final Map<String, Object> clientConfig, final Map<String, Object> serdeConfig,
                              final String transactionalId, final KafkaChunkGroup consumed, final boolean avroKeys) {
        this.consumed = consumed;
        final Properties props = new Properties();
        props.putAll(clientConfig);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        props.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "spillway-trainer");
        if (transactionalId != null) {
            props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        }
        if (avroKeys) {
            final io.spillway.schemas.serde.AvroStringSerializer avro = new io.spillway.schemas.serde.AvroStringSerializer();
            avro.configure(serdeConfig, true);
            this.keys = avro;
        } else {
            this.keys = new StringSerializer();
        }
        this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        if (transactionalId != null) {
            producer.initTransactions();
        }
        this.serdeConfig = Map.copyOf(serdeConfig);
    }

    @Override
    @SuppressWarnings("unchecked")
    public void send(final String topic, final String key, final SpecificRecord value) {
        rethrow();
        final SpecificAvroSerializer<SpecificRecord> serializer = serializers.computeIfAbsent(value.getClass(), type -> {
            final SpecificAvroSerializer<SpecificRecord> s =
                    new SpecificAvroSerializer<>((Class<SpecificRecord>) type);
            s.configure(serdeConfig, false);
            return s;
        });
        final byte[] bytes = waitingForRegistry(topic, () -> serializer.serialize(topic, value));
        producer.send(new ProducerRecord<>(topic, waitingForRegistry(topic, () -> keys.serialize(topic, key)), bytes), (metadata, error) -> {
            if (error != null) {
                failure.compareAndSet(null, error);
            }
        });
    }

    /**
     * Serializes, waiting while the registry is unreachable (a record type's schema id is fetched once, so only the
     * first records after a start can need it): publishing pauses, and with it training, but nothing is lost and
     * the trainer does not stop.
     */
    private byte[] waitingForRegistry(final String topic, final java.util.function.Supplier<byte[]> serialize) {
        long backoffMs = 100;
        while (true) {
            try {
                return serialize.get();
            } catch (final SerdeException e) {
                if (e.reason() != SerdeException.Reason.REGISTRY_UNAVAILABLE || closed) {
                    throw e;
                }
                registryWaits.incrementAndGet();
                LOG.warn("Schema registry unavailable while publishing to {} ({}); retrying in {} ms", topic,
                        e.getMessage(), backoffMs);
                try {
                    Thread.sleep(backoffMs);
                } catch (final InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                backoffMs = Math.min(backoffMs * 2, 5_000);
            }
        }
    }

    /** Times publishing waited for the schema registry. */
    public long registryWaits() {
        return registryWaits.get();
    }

    @Override
    public void delete(final String topic, final String key) {
        rethrow();
        producer.send(new ProducerRecord<>(topic, waitingForRegistry(topic, () -> keys.serialize(topic, key)), null),
                (metadata, error) -> {
            if (error != null) {
                failure.compareAndSet(null, error);
            }
        });
    }

    @Override
    public void beginTransaction() {
        rethrow();
        producer.beginTransaction();
    }

    @Override
    public void commitTransaction(final Map<Integer, Long> chunkPositions) {
        final Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        chunkPositions.forEach((p, offset) -> offsets.put(new TopicPartition(consumed.topic(), p),
                new OffsetAndMetadata(offset)));
        try {
            if (!offsets.isEmpty()) {
                producer.sendOffsetsToTransaction(offsets, consumed.groupMetadata());
            }
            producer.commitTransaction();
        } catch (final org.apache.kafka.common.errors.ProducerFencedException
                       | org.apache.kafka.common.errors.InvalidProducerEpochException e) {
            throw e;
        } catch (final KafkaException e) {
            try {
                producer.abortTransaction();
            } catch (final KafkaException ignored) {
                // the commit's own error is the one to report
            }
            throw e;
        }
        rethrow();
    }

    @Override
    public void flush() {
        producer.flush();
        rethrow();
    }

    private void rethrow() {
        final Exception e = failure.get();
        if (e != null) {
            throw new KafkaException("publishing the trainer's output failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        closed = true;
        serializers.values().forEach(SpecificAvroSerializer::close);
        keys.close();
        producer.close();
    }
}
