package io.spillway.app;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the records of the dictionary sequence that the chunking task has committed, as Kafka Streams does for
 * its repartition topics (every {@code repartition.purge.interval.ms}): the sequence is only a hand-off, and would
 * otherwise keep a copy of the input for its retention. Under exactly-once a committed offset is committed with
 * everything the task made of the records before it, so nothing needs them again. Runs on its own daemon thread;
 * a failed round is retried at the next.
 */
final class DictionarySequencePurge implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DictionarySequencePurge.class);
    /** Kafka Streams' setting for its own repartition topics, and its default. */
    static final String INTERVAL_CONFIG = "repartition.purge.interval.ms";
    static final long DEFAULT_INTERVAL_MS = 30_000;
    /**
     * The shortest interval the timer runs at. Kafka Streams allows 0, meaning "at every commit" (100 ms apart under
     * exactly-once by default); a timer given 0 refuses to start, and the app with it.
     */
    static final long MIN_INTERVAL_MS = 100;

    private final Admin admin;
    private final String group;
    private final TopicPartition sequence;
    private final ScheduledExecutorService timer;
    /** The offset records were last deleted before (only this thread reads or writes it). */
    private long purgedBefore;

    DictionarySequencePurge(final Map<String, Object> clientConfig, final String group, final String topic,
                            final Duration every) {
        this.admin = Admin.create(clientConfig);
        this.group = group;
        this.sequence = new TopicPartition(topic, 0);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            final Thread t = new Thread(r, "spillway-sequence-purge");
            t.setDaemon(true);
            return t;
        });
        final long ms = Math.max(MIN_INTERVAL_MS, every.toMillis());
        timer.scheduleWithFixedDelay(this::purge, ms, ms, TimeUnit.MILLISECONDS);
    }

    private void purge() {
        try {
            final OffsetAndMetadata committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                    .get(10, TimeUnit.SECONDS).get(sequence);
            if (committed != null && committed.offset() > purgedBefore) {
                admin.deleteRecords(Map.of(sequence, RecordsToDelete.beforeOffset(committed.offset()))).all()
                        .get(10, TimeUnit.SECONDS);
                purgedBefore = committed.offset();
                LOG.debug("Deleted the records of {} before offset {}", sequence, purgedBefore);
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (final Exception e) {
            LOG.debug("Could not purge {} this round: {}", sequence, e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        admin.close(Duration.ofSeconds(5));
    }
}
