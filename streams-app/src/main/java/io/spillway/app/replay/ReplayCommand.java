package io.spillway.app.replay;

import io.spillway.schemas.avro.Event;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code spillway replay}: produces a real data set ({@link RealDataset}) to the events topic as Avro
 * {@code Event}s in the Confluent wire format, interleaving documents ({@link InterleavedDocuments}), at a
 * controlled rate, with a progress bar. Exit code 0 when every record was acknowledged, 1 otherwise.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Replay a real public data set (text corpora from Debian packages) to the events topic.")
public final class ReplayCommand implements Callable<Integer> {
    @Option(names = "--dataset", required = true, description = "linux-doc or perl-doc.")
    String dataset;

    @Option(names = "--bootstrap-servers", defaultValue = "localhost:9092", description = "Kafka bootstrap servers (default: ${DEFAULT-VALUE}).")
    String bootstrapServers;

    @Option(names = "--schema-registry-url", defaultValue = "http://localhost:8081", description = "Schema registry URL (default: ${DEFAULT-VALUE}).")
    String schemaRegistryUrl;

    @Option(names = "--topic", defaultValue = "events", description = "Topic to produce to (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--rate", defaultValue = "0", description = "Events per second; 0 = as fast as possible (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--limit", defaultValue = "0", description = "Stop after this many events; 0 = the whole data set (default: ${DEFAULT-VALUE}).")
    long limit;

    @Option(names = "--open-documents", defaultValue = "16", description = "Documents interleaved at a time (default: ${DEFAULT-VALUE}).")
    int openDocuments;

    @Option(names = "--min-document-length", defaultValue = "4096", description = "Skip shorter documents, in characters (default: ${DEFAULT-VALUE}).")
    int minDocumentLength;

    @Option(names = "--partitions", defaultValue = "4", description = "Partitions of the topic if it has to be created (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the interleaving (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        final RealDataset ds = RealDataset.byId(dataset);
        final InterleavedDocuments events = new InterleavedDocuments(ds.documents(), openDocuments, minDocumentLength, seed);
        ensureTopic();
        final Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 10);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        final AtomicReference<Exception> failure = new AtomicReference<>();
        final long sent;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
             SpecificAvroSerializer<Event> serializer = new SpecificAvroSerializer<>(Event.class);
             ProgressBar bar = new ProgressBarBuilder().setTaskName("Replaying " + ds.id())
                     .setInitialMax(limit > 0 ? limit : -1).setStyle(ProgressBarStyle.ASCII).setUnit(" ev", 1)
                     .showSpeed().build()) {
            serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, schemaRegistryUrl), false);
            sent = replay(events, limit, new Pacer(rate), e -> producer.send(
                    new ProducerRecord<>(topic, e.getEntityId(), serializer.serialize(topic, e)), (md, ex) -> {
                        if (ex != null) {
                            failure.compareAndSet(null, ex);
                        }
                    }), bar::step);
            producer.flush();
        }
        if (failure.get() != null) {
            System.err.println("Replay failed: " + failure.get().getMessage());
            return 1;
        }
        System.out.printf("Replayed %d events of %s (%d documents) to '%s'%n", sent, ds.id(), events.documentsOpened(), topic);
        return 0;
    }

    /** Creates the topic (broker-default replication) when missing: brokers often disable auto-creation. */
    private void ensureTopic() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000))) {
            if (!admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic)) {
                try {
                    admin.createTopics(List.of(new NewTopic(topic, Optional.of(partitions), Optional.empty())))
                            .all().get(30, TimeUnit.SECONDS);
                    System.out.printf("Created topic '%s' with %d partitions%n", topic, partitions);
                } catch (final ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        } catch (final ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot reach Kafka at " + bootstrapServers + " to check topic '" + topic
                    + "': " + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
        }
    }

    /** What {@link #replay} hands each event to. */
    @FunctionalInterface
    public interface EventSink {
        void accept(Event event) throws Exception;
    }

    /**
     * Hands events to {@code sink} at the pacer's rate until the stream ends or {@code limit} events (0: no limit).
     *
     * @param progress called once per event after it was handed over
     * @return events handed over
     */
    public static long replay(final Iterator<Event> events, final long limit, final Pacer pacer, final EventSink sink,
                              final Runnable progress) throws Exception {
        long i = 0;
        while (events.hasNext() && (limit <= 0 || i < limit)) {
            pacer.awaitTurn(i);
            sink.accept(events.next());
            progress.run();
            i++;
        }
        return i;
    }
}
