package io.spillway.app.it;

import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The whole app training on a real in-JVM broker and registry, fed by a background producer of generated
 * sequences at a steady rate until closed: for tests of what operators see while the app trains.
 */
public final class RunningApp implements AutoCloseable {
    private final EmbeddedKafka kafka;
    private final SchemaRegistryServer registry;
    private final SpillwayApp app;
    private final Thread producer;
    private final AtomicLong produced = new AtomicLong();
    private volatile boolean stop;

    private RunningApp(final Path dir, final double eventsPerSecond) throws Exception {
        this.kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        this.registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"));
        this.app = SpillwayApp.start(TestApps.config(kafka.bootstrapServers(), registry.url().toString(),
                dir.resolve("state"), 8));
        this.producer = new Thread(() -> produce(eventsPerSecond), "test-producer");
        producer.setDaemon(true);
        producer.start();
    }

    /** Starts everything under {@code dir} and produces {@code eventsPerSecond} events until closed. */
    public static RunningApp start(final Path dir, final double eventsPerSecond) throws Exception {
        return new RunningApp(dir, eventsPerSecond);
    }

    public SpillwayApp app() {
        return app;
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    public String registryUrl() {
        return registry.url().toString();
    }

    public long produced() {
        return produced.get();
    }

    private void produce(final double rate) {
        final Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        final SequenceGenerator generator = new SequenceGenerator(16, 8, 16, 0.05, 5);
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
             SpecificAvroSerializer<Event> serializer = new SpecificAvroSerializer<>(Event.class)) {
            serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry.url().toString()), false);
            final long start = System.nanoTime();
            while (!stop) {
                final Event e = generator.next();
                p.send(new ProducerRecord<>("events", e.getEntityId(), serializer.serialize("events", e)));
                final long n = produced.incrementAndGet();
                final long wait = start + (long) (n / rate * 1e9) - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws Exception {
        stop = true;
        producer.join(10_000);
        app.close();
        registry.close();
        kafka.close();
    }
}
