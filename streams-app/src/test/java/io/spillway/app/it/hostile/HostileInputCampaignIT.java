package io.spillway.app.it.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.topology.DeadLetterHeaders;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18's generated campaign: at least 10,000 mutated records ({@link RecordMutator}, seeded), interleaved with
 * valid events of several keys, through a real broker into one running app with the registry over HTTP. Afterwards
 * every record that reached the input is accounted for, from sources that do not share counters: the input topic's
 * offsets, the dead-letter topic (read committed, every record with a reason and its source), and the trainer's count
 * of events trained. Each record's fate is also checked against its kind: a kind that must be dead-lettered is, a valid
 * one is trained. The streams client must never stop. Writes its figures to
 * {@code target/hostile-input/records.json} (before asserting, so a failing run leaves its figures too).
 *
 * <p>{@code -Dhostile.seed=N} and {@code -Dhostile.records=N} change the seed and the number of mutated records.
 */
@Tag("hostile-input")
class HostileInputCampaignIT {
    private static final long SEED = Long.getLong("hostile.seed", 18L);
    private static final int MUTATED = Integer.getInteger("hostile.records", 10_000);
    private static final Path RESULTS = Path.of(System.getProperty("hostile.results.dir", "target/hostile-input"),
            "records.json");
    /** Kinds left out, by figure name ({@code -Dhostile.skip=record-time-negative,...}): to look at one defect at a time. */
    private static final Set<RecordMutator.Kind> SKIPPED = Arrays.stream(RecordMutator.Kind.values())
            .filter(k -> Arrays.asList(System.getProperty("hostile.skip", "").split(",")).contains(k.figureName()))
            .collect(Collectors.toSet());
    private static final int KEYS = 16;
    private static final int WARM_UP_VALID = 640;
    /** Valid events sent after the last mutated record: the app must still train after all of it. */
    private static final int FINAL_VALID = 1_000;
    /** Valid events sent after a restart that follows the campaign. */
    private static final int AFTER_RESTART_VALID = 500;
    /** Of every 10 mutated records, this many valid events go between them. */
    private static final int VALID_PER_10_MUTATED = 6;
    private static final int NEAR_LIMIT_VALUES = 5;
    private static final int OVER_LIMIT_VALUES = 2;
    private static final int BEYOND_BROKER_TIME = 6;

    @TempDir
    Path dir;

    /** Where a record went, and what it was. */
    private record Sent(RecordMutator.Kind kind, int partition, long offset) {
        boolean valid() {
            return kind == null;
        }
    }

    @Test
    void tenThousandMutatedRecordsAreAllAccountedForAndNoneStopsTheApp() throws Exception {
        final long started = System.nanoTime();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"));
             AppUnderAttack a = AppUnderAttack.start(kafka.bootstrapServers(), registry.url().toString(),
                     dir.resolve("state"), "campaign", KEYS);
             KafkaProducer<byte[], byte[]> refusable = refusableProducer(kafka.bootstrapServers())) {
            final List<Future<RecordMetadata>> validSends = new ArrayList<>();
            final Map<Future<RecordMetadata>, RecordMutator.Kind> attackSends = new LinkedHashMap<>();
            final List<Sent> rawSends = new ArrayList<>();
            final Map<String, Long> refused = new TreeMap<>();
            final Map<String, Long> tried = new TreeMap<>();

            // A trained model first: the app has then registered its output schemas, ids the mutator can misuse.
            final List<Event> warmUp = new ArrayList<>();
            final byte[] firstValue = sendValid(a, warmUp::add, WARM_UP_VALID, validSends);
            a.await("the warm-up events trained", Duration.ofSeconds(90),
                    () -> a.app().trainer().eventsTrained() == WARM_UP_VALID);
            final RecordMutator attacks = new RecordMutator(SEED, a::serialize, AppUnderAttack.VOCABULARY, 16, 64,
                    otherSchemaIds(registry.url(), schemaId(firstValue)), SKIPPED);
            warmUp.forEach(attacks::sawValid);

            final long campaignStart = System.nanoTime();
            final SplittableRandom schedule = new SplittableRandom(SEED ^ 0x5eed);
            for (int i = 0; i < MUTATED; i++) {
                if (schedule.nextInt(10) < VALID_PER_10_MUTATED) {
                    sendValid(a, attacks::sawValid, 1, validSends);
                }
                final RecordMutator.Attack attack;
                if (!SKIPPED.contains(RecordMutator.Kind.VALUE_NEAR_BROKER_LIMIT)
                        && i % (MUTATED / NEAR_LIMIT_VALUES) == MUTATED / NEAR_LIMIT_VALUES / 2) {
                    attack = attacks.make(RecordMutator.Kind.VALUE_NEAR_BROKER_LIMIT);
                } else {
                    attack = attacks.next();
                }
                send(a, attack, attackSends, rawSends, refused, tried);
                if (!SKIPPED.contains(RecordMutator.Kind.RECORD_TIME_BEYOND_BROKER_LIMIT)
                        && i % (MUTATED / BEYOND_BROKER_TIME) == 1) {
                    send(refusable, a, attacks.make(RecordMutator.Kind.RECORD_TIME_BEYOND_BROKER_LIMIT), refused, tried);
                }
                if (!SKIPPED.contains(RecordMutator.Kind.VALUE_OVER_BROKER_LIMIT)
                        && i % (MUTATED / OVER_LIMIT_VALUES) == 2) {
                    send(refusable, a, attacks.make(RecordMutator.Kind.VALUE_OVER_BROKER_LIMIT), refused, tried);
                }
            }
            sendValid(a, attacks::sawValid, FINAL_VALID, validSends);
            a.producer().flush();

            final List<Sent> sent = new ArrayList<>(rawSends);
            for (final Future<RecordMetadata> f : validSends) {
                final RecordMetadata m = f.get();
                sent.add(new Sent(null, m.partition(), m.offset()));
            }
            for (final Map.Entry<Future<RecordMetadata>, RecordMutator.Kind> e : attackSends.entrySet()) {
                try {
                    final RecordMetadata m = e.getKey().get();
                    sent.add(new Sent(e.getValue(), m.partition(), m.offset()));
                } catch (final ExecutionException refusal) {
                    refused.merge(e.getValue().figureName() + "." + refusal.getCause().getClass().getSimpleName(), 1L,
                            Long::sum);
                }
            }
            final double sendSeconds = (System.nanoTime() - campaignStart) / 1e9;
            final long arrived = a.recordsOn(a.topics().events());

            final boolean drained = awaitDrained(a, arrived, Duration.ofSeconds(150));
            final double campaignSeconds = (System.nanoTime() - campaignStart) / 1e9;
            final List<ConsumerRecord<byte[], byte[]>> dead = a.deadLetters();
            final long trained = a.app().trainer().eventsTrained();
            final long waiting = a.app().counters().waitingForRegistry();
            // accepted but not trained yet (an open chunk, the chunk log, the trainer's open batch), or waiting for
            // the registry to answer
            final long buffered = a.app().counters().accepted() - trained + waiting;

            // Each dead letter, matched to the record it came from.
            final Map<Long, Sent> byPosition = new HashMap<>();
            for (final Sent s : sent) {
                byPosition.put(position(s.partition(), s.offset()), s);
            }
            final Map<String, Long> reasons = new TreeMap<>();
            final Map<Long, String> deadPositions = new HashMap<>();
            long withoutReason = 0;
            long withoutSource = 0;
            long truncated = 0;
            for (final ConsumerRecord<byte[], byte[]> r : dead) {
                final String reason = DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON);
                if (reason == null || reason.isBlank()) {
                    withoutReason++;
                } else {
                    reasons.merge(reason, 1L, Long::sum);
                }
                if ("true".equals(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.TRUNCATED))) {
                    truncated++;
                }
                final Long at = sourcePosition(r, a.topics().events());
                if (at == null || !byPosition.containsKey(at) || deadPositions.put(at, reason) != null) {
                    withoutSource++;
                }
            }
            final List<String> unexpected = new ArrayList<>();
            for (final Sent s : sent) {
                final String deadAs = deadPositions.get(position(s.partition(), s.offset()));
                final boolean deadLettered = deadPositions.containsKey(position(s.partition(), s.offset()));
                final RecordMutator.Expect expect = s.valid() ? RecordMutator.Expect.TRAIN : s.kind().expect;
                if (expect == RecordMutator.Expect.DEAD_LETTER && !deadLettered
                        || expect == RecordMutator.Expect.TRAIN && deadLettered) {
                    unexpected.add((s.valid() ? "valid" : s.kind().figureName()) + " at " + s.partition() + "/"
                            + s.offset() + (deadLettered ? " dead-lettered as " + deadAs : " not dead-lettered"));
                }
            }
            final long mutatedArrived = sent.stream().filter(s -> !s.valid()).count();
            final long lost = arrived - trained - dead.size() - buffered;
            final Map<String, Long> counted = Map.of("consumed", a.app().counters().consumed(),
                    "accepted", a.app().counters().accepted(), "deadLettered", a.app().counters().deadLettered());
            final Map<String, Long> countedByReason = a.app().counters().deadLetteredByReason();
            final long truncatedCounted = a.app().counters().deadLettersTruncated();
            final int campaignShutdowns = a.shutdowns();

            // The restart must not stop on anything the campaign left in the stores, and the app must go on training.
            long restartTrained = -1;
            boolean restartDrained = false;
            if (drained && campaignShutdowns == 0) {
                a.restart();
                a.produceValid(AFTER_RESTART_VALID);
                restartDrained = awaitDrained(a, AFTER_RESTART_VALID, Duration.ofSeconds(90));
                restartTrained = a.app().trainer().eventsTrained();
            }

            final Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("records_tried", arrived);
            figures.put("records_mutated", mutatedArrived);
            figures.put("records_valid", sent.size() - mutatedArrived);
            figures.put("records_refused_by_broker", refused.values().stream().mapToLong(Long::longValue).sum());
            figures.put("records_consumed", a.app().counters().consumed());
            figures.put("records_trained", trained);
            figures.put("records_dead_lettered", (long) dead.size());
            figures.put("records_buffered", buffered);
            figures.put("records_waiting_for_registry", waiting);
            figures.put("records_lost", lost);
            figures.put("client_shutdowns", (long) a.shutdowns());
            figures.put("restart_records_trained", restartTrained);
            figures.put("records_with_unexpected_outcome", (long) unexpected.size());
            figures.put("dead_letters_truncated", truncated);
            figures.put("dead_letters_without_reason", withoutReason);
            figures.put("dead_letters_without_matching_source", withoutSource);
            figures.put("drained", drained ? 1 : 0);
            figures.put("seed", SEED);
            figures.put("mutation_kinds", (long) RecordMutator.Kind.values().length);
            figures.put("mutation_kinds_skipped", (long) SKIPPED.size());
            figures.put("send_seconds", round(sendSeconds));
            figures.put("campaign_seconds", round(campaignSeconds));
            figures.put("total_seconds", round((System.nanoTime() - started) / 1e9));
            reasons.forEach((reason, n) -> figures.put("records_dead_lettered." + reason, n));
            tried.forEach((kind, n) -> figures.put("mutation." + kind, n));
            refused.forEach((what, n) -> figures.put("refused_by_broker." + what, n));
            Files.createDirectories(RESULTS.getParent());
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(RESULTS.toFile(), figures);
            System.out.println("HostileInputCampaignIT: " + figures);

            assertThat(campaignShutdowns).as("client shutdowns (%s)", a.watch().lastStop()).isZero();
            assertThat(drained).as("every record handled within the time: %s", a.figures()).isTrue();
            assertThat(mutatedArrived).as("mutated records that reached the app").isGreaterThanOrEqualTo(MUTATED);
            assertThat((long) sent.size()).as("records the broker took from the campaign = records on the input")
                    .isEqualTo(arrived);
            assertThat(counted.get("consumed")).as("records consumed = records on the input").isEqualTo(arrived);
            assertThat(counted.get("consumed")).as("consumed = trained + dead-lettered + buffered")
                    .isEqualTo(trained + counted.get("deadLettered") + buffered);
            assertThat(counted.get("consumed")).as("consumed = accepted + dead-lettered + waiting for the registry")
                    .isEqualTo(counted.get("accepted") + counted.get("deadLettered") + waiting);
            assertThat(counted.get("deadLettered")).as("DLQ counter = records on the DLQ topic").isEqualTo(dead.size());
            assertThat(countedByReason).as("DLQ counter per reason = the topic's").isEqualTo(reasons);
            assertThat(withoutReason).as("dead letters without a reason header").isZero();
            assertThat(truncated).as("truncated dead letters on the topic = the counter").isEqualTo(truncatedCounted);
            assertThat(withoutSource).as("dead letters not matching exactly one record sent").isZero();
            assertThat(lost).as("records lost").isZero();
            assertThat(unexpected.subList(0, Math.min(20, unexpected.size())))
                    .as("records whose fate contradicts their kind (%d, the first 20 shown)", unexpected.size()).isEmpty();
            a.assertAlive("the end of the restart");
            assertThat(a.shutdowns()).as("client shutdowns after the restart (%s)", a.watch().lastStop()).isZero();
            assertThat(restartDrained).as("the restarted app trained %d valid events: %s", AFTER_RESTART_VALID,
                    a.figures()).isTrue();
            assertThat(restartTrained).as("valid events trained after the restart").isEqualTo(AFTER_RESTART_VALID);
            assertThat(a.app().counters().deadLettered()).as("dead letters after the restart").isZero();
            assertThat(a.app().streamsState()).isEqualTo(KafkaStreams.State.RUNNING);
        }
    }

    /**
     * Sends the generator's next {@code n} valid events (not waiting), telling {@code seen} each.
     *
     * @return the first one's value
     */
    private static byte[] sendValid(final AppUnderAttack a, final Consumer<Event> seen, final int n,
                                    final List<Future<RecordMetadata>> sends) {
        byte[] first = null;
        for (int i = 0; i < n; i++) {
            final Event e = a.generator().next();
            seen.accept(e);
            final byte[] value = a.serialize(e);
            first = first == null ? value : first;
            sends.add(a.producer().send(new ProducerRecord<>(a.topics().events(), Utils.utf8(e.getEntityId()), value)));
        }
        return first;
    }

    private static void send(final AppUnderAttack a, final RecordMutator.Attack attack,
                             final Map<Future<RecordMetadata>, RecordMutator.Kind> sends, final List<Sent> raw,
                             final Map<String, Long> refused, final Map<String, Long> tried) throws Exception {
        tried.merge(attack.kind().figureName(), 1L, Long::sum);
        if (attack.needsRawProduce()) {
            // after everything sent so far, so the record keeps its place in its key's order
            a.producer().flush();
            final int partition = attack.key() == null ? 0 : a.partitionOf(attack.key());
            try {
                final long offset = RawProducer.produce(a.bootstrap(), a.topics().events(), partition, attack.key(),
                        attack.value(), attack.headers(), attack.timestampMs());
                raw.add(new Sent(attack.kind(), partition, offset));
            } catch (final IOException e) {
                refused.merge(attack.kind().figureName() + ".raw-produce-refused", 1L, Long::sum);
            }
            return;
        }
        sends.put(a.producer().send(new ProducerRecord<>(a.topics().events(), null, attack.timestampMs(), attack.key(),
                attack.value(), List.of(attack.headers()))), attack.kind());
    }

    /**
     * Sends a record the broker should refuse on a producer of its own (a refused batch fails every record in it),
     * and waits for the answer; one the broker takes after all counts as tried.
     */
    private static void send(final KafkaProducer<byte[], byte[]> refusable, final AppUnderAttack a,
                             final RecordMutator.Attack attack, final Map<String, Long> refused,
                             final Map<String, Long> tried) throws InterruptedException {
        tried.merge(attack.kind().figureName(), 1L, Long::sum);
        try {
            refusable.send(new ProducerRecord<>(a.topics().events(), null, attack.timestampMs(), attack.key(),
                    attack.value(), List.of(attack.headers()))).get();
        } catch (final ExecutionException e) {
            refused.merge(attack.kind().figureName() + "." + e.getCause().getClass().getSimpleName(), 1L, Long::sum);
        }
    }

    private static KafkaProducer<byte[], byte[]> refusableProducer(final String bootstrap) {
        final Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 << 20);
        props.put(ProducerConfig.RETRIES_CONFIG, 0);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Waits until the app has consumed every record on its input and each is trained or dead-lettered. */
    private static boolean awaitDrained(final AppUnderAttack a, final long arrived, final Duration timeout)
            throws InterruptedException {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (a.watch().shutdowns() > 0 || a.app().trainer().failure() != null) {
                return false;
            }
            final long consumed = a.app().counters().consumed();
            if (consumed >= arrived
                    && a.app().trainer().eventsTrained() + a.app().counters().deadLettered() == consumed) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    /** The schema id of a framed value: its bytes 1-4. */
    private static int schemaId(final byte[] framed) {
        return (framed[1] & 0xff) << 24 | (framed[2] & 0xff) << 16 | (framed[3] & 0xff) << 8 | framed[4] & 0xff;
    }

    /** Ids of the registered schemas other than {@code eventId} (the app's outputs), from the registry over HTTP. */
    private static int[] otherSchemaIds(final URI registry, final int eventId) throws Exception {
        final HttpClient http = HttpClient.newHttpClient();
        final List<Integer> ids = new ArrayList<>();
        for (int id = 1; id <= 32; id++) {
            final HttpResponse<Void> r = http.send(HttpRequest.newBuilder(registry.resolve("/schemas/ids/" + id))
                    .GET().build(), HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() == 200 && id != eventId) {
                ids.add(id);
            }
        }
        assertThat(ids).as("the app's output schemas in the registry").isNotEmpty();
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private static long position(final int partition, final long offset) {
        return (long) partition << 48 | offset;
    }

    /** Where a dead letter came from, if its headers say it came from {@code topic}. */
    private static Long sourcePosition(final ConsumerRecord<byte[], byte[]> r, final String topic) {
        try {
            if (!topic.equals(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_TOPIC))) {
                return null;
            }
            return position(Integer.parseInt(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_PARTITION)),
                    Long.parseLong(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_OFFSET)));
        } catch (final RuntimeException e) {
            return null;
        }
    }

    private static double round(final double seconds) {
        return Math.round(seconds * 10) / 10.0;
    }
}
