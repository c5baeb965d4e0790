package io.spillway.schemas.registry.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.schemas.registry.CompatibilityLevel;
import io.spillway.schemas.registry.RegisteredSchema;
import io.spillway.schemas.registry.SchemaRegistryException;
import io.spillway.schemas.registry.internals.SchemaStore;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded hostile-input campaign against the registry (issue 18): mutated store files and malformed
 * HTTP requests. Each store file either opens in the state of some prefix of the original log (what a
 * crash can leave) or is refused with {@code file:line}, never with a raw exception, a held lock or a
 * silently different state. Each request gets a 4xx with a JSON error body or a closed connection
 * (an unknown HTTP version gets RFC 9110's 505, with the JSON body), and the server keeps its ids. Figures go to {@code target/hostile-input/registry.json}.
 */
@Tag("hostile-input")
class RegistryHostileInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SEED = 0x5b111_1a3L;
    private static final int STORE_FILES = 240;
    private static final int HTTP_REQUESTS = 560;
    private static final CampaignFigures FIGURES = new CampaignFigures();

    @TempDir
    Path dir;

    @AfterAll
    static void writeFigures() throws IOException {
        FIGURES.write(Path.of("target", "hostile-input", "registry.json"));
    }

    private static Schema record(final String name, final int fields) {
        SchemaBuilder.FieldAssembler<Schema> assembler = SchemaBuilder.record(name).namespace("h").fields();
        for (int i = 0; i < fields; i++) {
            assembler = assembler.name("f" + i).type().intType().intDefault(i);
        }
        return assembler.endRecord();
    }

    /** Everything the store answers, as one comparable text. */
    private static String snapshot(final SchemaStore store, final Set<String> subjectNames, final int maxId) {
        final Map<String, Object> state = new TreeMap<>();
        state.put("subjects", store.subjects());
        state.put("global", store.globalLevel());
        for (final String subject : subjectNames) {
            final List<String> versions = new ArrayList<>();
            for (final int v : store.versions(subject)) {
                final RegisteredSchema r = store.version(subject, Integer.toString(v));
                versions.add(v + "=" + r.id());
            }
            state.put("versions " + subject, versions);
            state.put("level " + subject, String.valueOf(store.subjectLevel(subject).orElse(null)));
        }
        for (int id = 1; id <= maxId; id++) {
            String text;
            try {
                text = store.schemaById(id).toString();
            } catch (final SchemaRegistryException e) {
                text = "-";
            }
            state.put("id " + id, text);
        }
        return state.toString();
    }

    @Test
    void mutatedStoreFilesOpenInAPrefixStateOrAreRefusedWithFileAndLine() throws Exception {
        final Path original = dir.resolve("original.jsonl");
        final Set<String> subjects = Set.of("a-value", "b-value", "c-key", "d-value");
        try (SchemaStore store = SchemaStore.open(original)) {
            store.register("a-value", record("A", 1));
            store.register("a-value", record("A", 2));
            store.register("b-value", record("A", 1));
            store.setLevel("b-value", CompatibilityLevel.NONE);
            store.register("b-value", record("B", 1));
            store.register("c-key", record("C", 3));
            store.deleteSubject("a-value");
            store.register("a-value", record("A", 3));
            store.setLevel(null, CompatibilityLevel.FULL);
            store.register("d-value", record("D", 1));
            store.clearLevel("b-value");
            store.register("d-value", record("D", 2));
        }
        final byte[] bytes = Files.readAllBytes(original);
        final List<byte[]> lines = splitLines(bytes);
        final int maxId = 10;
        // The states a crash can leave: every prefix of whole lines.
        final Set<String> prefixStates = new HashSet<>();
        for (int k = 0; k <= lines.size(); k++) {
            final Path prefix = dir.resolve("prefix-" + k + ".jsonl");
            Files.write(prefix, join(lines.subList(0, k)));
            try (SchemaStore store = SchemaStore.open(prefix)) {
                prefixStates.add(snapshot(store, subjects, maxId));
            }
        }
        final String fullState;
        try (SchemaStore store = SchemaStore.open(original)) {
            fullState = snapshot(store, subjects, maxId);
        }

        final Random random = new Random(SEED);
        final Pattern fileLine = Pattern.compile("corrupt schema store .+\\.jsonl:\\d+: \\S");
        final List<String> failures = new ArrayList<>();
        int refused = 0;
        int opened = 0;
        int openedFull = 0;
        for (int i = 0; i < STORE_FILES; i++) {
            final Mutation mutation = mutate(bytes, lines, random);
            final Path file = dir.resolve("mutant-" + i + ".jsonl");
            Files.write(file, mutation.bytes());
            try {
                final String state;
                try (SchemaStore store = SchemaStore.open(file)) {
                    state = snapshot(store, subjects, maxId);
                }
                opened++;
                if (state.equals(fullState)) {
                    openedFull++;
                }
                if (!prefixStates.contains(state)) {
                    failures.add(i + " " + mutation.name() + ": opened in a state no prefix of the log has");
                }
                // Recovery cut what it had to: the file now opens the same way, and takes appends.
                try (SchemaStore again = SchemaStore.open(file)) {
                    if (!snapshot(again, subjects, maxId).equals(state)) {
                        failures.add(i + " " + mutation.name() + ": a second open gave another state");
                    }
                    again.setLevel("e-value", CompatibilityLevel.NONE);
                }
                try (SchemaStore third = SchemaStore.open(file)) {
                    if (third.subjectLevel("e-value").isEmpty()) {
                        failures.add(i + " " + mutation.name() + ": an append after recovery was lost");
                    }
                }
            } catch (final UncheckedIOException e) {
                if (fileLine.matcher(e.getMessage()).find() && e.getMessage().contains(file.toString())) {
                    refused++;
                } else {
                    failures.add(i + " " + mutation.name() + ": refused without file:line: " + e.getMessage());
                }
            } catch (final RuntimeException | Error e) {
                failures.add(i + " " + mutation.name() + ": raw " + e);
            }
            if (!lockIsFree(file)) {
                failures.add(i + " " + mutation.name() + ": the file is still locked");
            }
        }
        FIGURES.put("store_files_tried", STORE_FILES);
        FIGURES.put("store_files_refused_with_reason", refused);
        FIGURES.put("store_files_opened_in_a_prefix_state", opened);
        FIGURES.put("store_files_opened_in_the_full_state", openedFull);
        assertThat(failures).isEmpty();
        assertThat(refused + opened).isEqualTo(STORE_FILES);
        assertThat(refused).as("most mutations are damage to refuse").isGreaterThan(STORE_FILES / 2);
        assertThat(opened).as("truncations and torn tails recover").isGreaterThan(10);
    }

    private static boolean lockIsFree(final Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            final FileLock lock = channel.tryLock();
            if (lock == null) {
                return false;
            }
            lock.release();
            return true;
        } catch (final OverlappingFileLockException e) {
            return false;
        }
    }

    private record Mutation(String name, byte[] bytes) {
    }

    private static Mutation mutate(final byte[] bytes, final List<byte[]> lines, final Random random) {
        final int kind = random.nextInt(12);
        switch (kind) {
            case 0 -> {
                return new Mutation("truncate", Arrays.copyOf(bytes, random.nextInt(bytes.length)));
            }
            case 1, 2 -> {
                final byte[] out = bytes.clone();
                final int flips = kind == 1 ? 1 : 2 + random.nextInt(7);
                for (int f = 0; f < flips; f++) {
                    final int at = random.nextInt(out.length);
                    out[at] ^= (byte) (1 << random.nextInt(8));
                }
                return new Mutation("flip " + flips + " bit(s)", out);
            }
            case 3 -> {
                final List<byte[]> out = new ArrayList<>(lines);
                final int at = random.nextInt(out.size());
                out.add(at, out.get(at));
                return new Mutation("duplicate line " + (at + 1), join(out));
            }
            case 4 -> {
                final List<byte[]> out = new ArrayList<>(lines);
                final int at = random.nextInt(out.size());
                out.remove(at);
                return new Mutation("remove line " + (at + 1), join(out));
            }
            case 5 -> {
                final List<byte[]> out = new ArrayList<>(lines);
                final int a = random.nextInt(out.size());
                final int b = random.nextInt(out.size());
                final byte[] t = out.get(a);
                out.set(a, out.get(b));
                out.set(b, t);
                return new Mutation("swap lines " + (a + 1) + " and " + (b + 1), join(out));
            }
            case 6 -> {
                final byte[] garbage = new byte[1 + random.nextInt(64)];
                random.nextBytes(garbage);
                final boolean newline = random.nextBoolean();
                return new Mutation("append garbage" + (newline ? " line" : ""),
                    concat(bytes, garbage, newline ? new byte[] {'\n'} : new byte[0]));
            }
            case 7 -> {
                final List<byte[]> out = new ArrayList<>(lines);
                final int at = random.nextInt(out.size());
                final String line = new String(out.get(at), StandardCharsets.UTF_8);
                final String huge = List.of("99999999999", "2147483648", "-1", "0", "1e9", "18446744073709551617")
                    .get(random.nextInt(6));
                out.set(at, line.replaceFirst("\"(id|version|seq)\":\\d+", "\"$1\":" + huge)
                    .getBytes(StandardCharsets.UTF_8));
                return new Mutation("huge number in line " + (at + 1), join(out));
            }
            case 8 -> {
                final List<byte[]> out = new ArrayList<>(lines);
                final List<String> unchecked = List.of(
                    "{\"op\":\"schema\",\"id\":2147483647,\"schema\":\"\\\"string\\\"\"}",
                    "{\"op\":\"schema\",\"id\":99999999999,\"schema\":\"\\\"string\\\"\"}",
                    "{\"op\":\"version\",\"subject\":\"a-value\",\"version\":9,\"id\":77}",
                    "{\"op\":\"delete\",\"subject\":\"zzz\"}",
                    "{\"op\":\"config\",\"level\":\"SIDEWAYS\"}");
                final int at = random.nextInt(out.size() + 1);
                out.add(at, unchecked.get(random.nextInt(unchecked.size())).getBytes(StandardCharsets.UTF_8));
                return new Mutation("insert an unchecked line at " + (at + 1), join(out));
            }
            case 9 -> {
                final int keep = random.nextInt(bytes.length);
                final byte[] out = Arrays.copyOf(bytes, keep + 1 + random.nextInt(512));
                Arrays.fill(out, keep, out.length, (byte) 0);
                return new Mutation("zero-filled tail from byte " + keep, out);
            }
            case 10 -> {
                final int at = random.nextInt(bytes.length);
                final byte[] inserted = new byte[1 + random.nextInt(8)];
                random.nextBytes(inserted);
                return new Mutation("insert bytes at " + at, concat(Arrays.copyOf(bytes, at), inserted,
                    Arrays.copyOfRange(bytes, at, bytes.length)));
            }
            default -> {
                final int cut = random.nextInt(bytes.length);
                return new Mutation("truncate at " + cut + " then append a line",
                    concat(Arrays.copyOf(bytes, cut), "{\"op\":\"config\",\"level\":\"NONE\"}\n"
                        .getBytes(StandardCharsets.UTF_8)));
            }
        }
    }

    private static List<byte[]> splitLines(final byte[] bytes) {
        final List<byte[]> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                out.add(Arrays.copyOfRange(bytes, start, i));
                start = i + 1;
            }
        }
        return out;
    }

    private static byte[] join(final List<byte[]> lines) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final byte[] line : lines) {
            out.writeBytes(line);
            out.write('\n');
        }
        return out.toByteArray();
    }

    private static byte[] concat(final byte[]... parts) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    // ---------------------------------------------------------------------------------------------
    // Malformed HTTP requests

    private static final String GOOD_SCHEMA = "{\"type\":\"record\",\"name\":\"Good\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}";

    @Test
    void malformedRequestsGet4xxJsonOrAClosedConnectionAndTheRegistryKeepsItsIds() throws Exception {
        try (SchemaRegistryServer server = SchemaRegistryServer.builder().storeFile(dir.resolve("http.jsonl"))
            .requestTimeout(Duration.ofSeconds(3)).start()) {
            final int port = server.url().getPort();
            final int goodId = registerGood(port);
            final String subjectsBefore = get(port, "/subjects").body();
            final Random random = new Random(SEED + 1);
            final List<Supplier<Probe>> kinds = probes(random);
            final List<String> failures = new ArrayList<>();
            int answered4xx = 0;
            int answered505 = 0;
            int closed = 0;
            final Map<String, Integer> byKind = new TreeMap<>();
            for (int i = 0; i < HTTP_REQUESTS; i++) {
                final Probe probe = kinds.get(i % kinds.size()).get();
                final RawHttp.Outcome outcome = RawHttp.send(port, probe.bytes(), probe.endInput());
                byKind.merge(probe.kind(), 1, Integer::sum);
                if (outcome.closedWithoutAnswer()) {
                    closed++;
                } else if (outcome.timedOut()) {
                    failures.add(probe.kind() + ": no answer and no close within 10 s");
                } else if (outcome.status() >= 400 && outcome.status() < 500 && isJsonError(outcome)) {
                    answered4xx++;
                } else if (outcome.status() == 505 && probe.kind().equals("bad request line") && isJsonError(outcome)) {
                    // RFC 9110's answer to "HTTP/9.9": HTTP Version Not Supported, with the JSON body.
                    answered505++;
                } else {
                    failures.add(probe.kind() + ": HTTP " + outcome.status() + " " + outcome.contentType() + " "
                        + abbreviate(outcome.body()));
                }
                if (i % 100 == 99) {
                    assertThat(registerGood(port)).as("good requests are answered during the campaign").isEqualTo(goodId);
                }
            }
            FIGURES.put("http_requests_tried", HTTP_REQUESTS);
            FIGURES.put("http_requests_answered_4xx", answered4xx);
            FIGURES.put("http_requests_closed_without_answer", closed);
            FIGURES.put("http_requests_answered_505_version_not_supported", answered505);
            assertThat(failures).isEmpty();
            assertThat(answered4xx + answered505 + closed).isEqualTo(HTTP_REQUESTS);
            assertThat(byKind).hasSizeGreaterThanOrEqualTo(10);
            // Afterwards: the same ids, the same subjects, a new schema gets the next id.
            assertThat(registerGood(port)).isEqualTo(goodId);
            assertThat(get(port, "/subjects").body()).isEqualTo(subjectsBefore);
            assertThat(JSON.readTree(get(port, "/schemas/ids/" + goodId).body()).get("schema").asText())
                .isEqualTo(JSON.readTree(GOOD_SCHEMA).toString());
            final RawHttp.Outcome next = request(port, "POST", "/subjects/after-value/versions",
                "application/json", JSON.writeValueAsString(Map.of("schema", "\"string\"")));
            assertThat(JSON.readTree(next.body()).get("id").asInt()).isEqualTo(goodId + 1);
        }
    }

    private static boolean isJsonError(final RawHttp.Outcome outcome) {
        if (outcome.contentType() == null || !outcome.contentType().contains("json")) {
            return false;
        }
        try {
            final JsonNode body = JSON.readTree(outcome.body());
            return body != null && body.path("error_code").isInt() && body.path("message").isTextual();
        } catch (final IOException e) {
            return false;
        }
    }

    private record Probe(String kind, byte[] bytes, boolean endInput) {
        static Probe of(final String kind, final String request) {
            return new Probe(kind, request.getBytes(StandardCharsets.UTF_8), false);
        }
    }

    private static String post(final String path, final String contentType, final String body) {
        return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: " + contentType
            + "\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    private static String schemaBody(final String schemaText) {
        try {
            return JSON.writeValueAsString(Map.of("schema", schemaText));
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The request generators; each call of a supplier makes one request, varied by the seeded random. */
    private static List<Supplier<Probe>> probes(final Random random) {
        final String versions = "/subjects/hostile-value/versions";
        final String valid = post(versions, "application/json", schemaBody(GOOD_SCHEMA));
        final List<Supplier<Probe>> kinds = new ArrayList<>();
        kinds.add(() -> {
            final List<String> methods = List.of("FOO", "PATCH", "TRACE", "OPTIONS", "PROPFIND", "get", "DELETE",
                "X".repeat(1 + random.nextInt(2000)), "G\u0001T", "PUT");
            final String method = methods.get(random.nextInt(methods.size()));
            final String path = method.equals("DELETE") ? "/schemas/ids/1" : method.equals("PUT") ? "/subjects" : "/subjects";
            return Probe.of("bad method", method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        });
        kinds.add(() -> {
            final String body = schemaBody(GOOD_SCHEMA);
            return Probe.of("truncated JSON body", post(versions, "application/json",
                body.substring(0, 1 + random.nextInt(body.length() - 1))));
        });
        kinds.add(() -> {
            final List<String> bodies = List.of("[]", "\"schema\"", "42", "null", "{\"schema\":123}",
                "{\"schema\":\"not avro\"}", "{\"schema\":\"{\\\"type\\\":\\\"record\\\"}\"}",
                "{\"schema\":\"\\\"int\\\"\",\"schemaType\":\"PROTOBUF\"}",
                "{\"schema\":\"\\\"int\\\"\",\"references\":[{\"name\":\"x\",\"subject\":\"y\",\"version\":1}]}",
                "{\"schema\":\"\\\"int\\\"\"} trailing", "{\"schema\":\"\\\"int\\\"\"}{}", "{\"schema\":",
                "{\"schema\":\"\\\"in\\u0000t\\\"\"}", "{\"nothing\":true}", "", "\u0000\u0001\u0002",
                "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"R\\\",\\\"fields\\\":[{\\\"name\\\":\\\"a\\\"}]}\"}");
            return Probe.of("bad JSON", post(versions, "application/json", bodies.get(random.nextInt(bodies.size()))));
        });
        kinds.add(() -> {
            final int depth = 1_500 + random.nextInt(20_000);
            return Probe.of("deep nesting", post(versions, "application/json", "[".repeat(depth) + "]".repeat(depth)));
        });
        kinds.add(() -> {
            final int depth = 2_000 + random.nextInt(4_000);
            final String nested = "{\"type\":\"array\",\"items\":".repeat(depth) + "\"int\"" + "}".repeat(depth);
            return Probe.of("deep schema", post(versions, "application/json", schemaBody(nested)));
        });
        kinds.add(() -> {
            final byte[] random100 = new byte[100 + random.nextInt(400)];
            random.nextBytes(random100);
            return new Probe("random bytes body", concat(("POST " + versions + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + random100.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII), random100), false);
        });
        kinds.add(() -> Probe.of("huge header", "GET /subjects HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "
            + "h".repeat(9_000 + random.nextInt(60_000)) + "\r\n\r\n"));
        kinds.add(() -> {
            final StringBuilder headers = new StringBuilder("GET /subjects HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
            for (int h = 0; h < 400 + random.nextInt(400); h++) {
                headers.append("X-H").append(h).append(": ").append("v".repeat(20)).append("\r\n");
            }
            return Probe.of("many headers", headers + "\r\n");
        });
        kinds.add(() -> Probe.of("body over the cap", "POST " + versions + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + "Content-Type: application/json\r\nContent-Length: " + (2_200_000 + random.nextInt(1 << 30)) + "\r\n\r\n{"));
        kinds.add(() -> {
            // A body right at the cap (2 MiB + 64 KiB): read in full, then refused as malformed.
            final int size = (2 << 20) + (64 << 10) - random.nextInt(1024);
            return Probe.of("body at the cap", post(versions, "application/json", "{\"schema\":\"" + "x".repeat(size - 13) + "\"x"));
        });
        kinds.add(() -> {
            final StringBuilder chunked = new StringBuilder("POST " + versions + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
            final String chunk = "y".repeat(65_536);
            for (int c = 0; c < 36; c++) {
                chunked.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
            }
            return Probe.of("chunked body over the cap", chunked.append("0\r\n\r\n").toString());
        });
        kinds.add(() -> Probe.of("bad chunk", "POST " + versions + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n"));
        kinds.add(() -> {
            final List<String> types = List.of("text/plain", "application/xml", "multipart/form-data; boundary=x",
                "application/x-www-form-urlencoded", "garbage", "image/png", "application/jsonx");
            return Probe.of("bad content type", post(versions, types.get(random.nextInt(types.size())),
                schemaBody(GOOD_SCHEMA)));
        });
        kinds.add(() -> {
            final List<String> paths = List.of("/subjects/%ZZ/versions", "/../../etc/passwd", "/subjects/a%2Fb/versions",
                "/%00", "/subjects/x/versions/abc", "/subjects/x/versions/0", "/subjects/x/versions/-7",
                "/schemas/ids/abc", "/schemas/ids/99999999999999", "/schemas/ids/-1", "/config/x/y", "/compatibility/x",
                "/subjects/x/y/z/w/v", "/" + "p".repeat(3_000 + random.nextInt(20_000)), "/subjects/%C0%AF/versions",
                "/subjects/..%2F..%2Fetc/versions", "/nothing-here", "/subjects/ghost/versions/latest",
                "/subjects/%E2%80%A8/versions", "/schemas/ids/1/schema/extra", "/subjects?x=%zz");
            final String path = paths.get(random.nextInt(paths.size()));
            return Probe.of("bad path", "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        });
        kinds.add(() -> {
            final byte[] request = valid.getBytes(StandardCharsets.UTF_8);
            return new Probe("truncated request", Arrays.copyOf(request, 1 + random.nextInt(request.length - 1)), true);
        });
        kinds.add(() -> {
            final List<String> lines = List.of("GET / HTTP/9.9", "GET /", "GET  /subjects  HTTP/1.1", "\u0016\u0003\u0001\u0002",
                "HELLO", "GET /sub jects HTTP/1.1");
            return Probe.of("bad request line", lines.get(random.nextInt(lines.size())) + "\r\nConnection: close\r\n\r\n");
        });
        kinds.add(() -> {
            final List<String> lengths = List.of("-1", "abc", "1, 2", "99999999999999999999", " ");
            final String length = lengths.get(random.nextInt(lengths.size()));
            return Probe.of("bad content length", "POST " + versions + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n{}");
        });
        kinds.add(() -> Probe.of("two content lengths", "POST " + versions + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + "Content-Length: 2\r\nContent-Length: 40\r\nContent-Type: application/json\r\n\r\n{}"));
        kinds.add(() -> Probe.of("bad config", post("/config", "application/json",
            List.of("{\"compatibility\":\"SIDEWAYS\"}", "{\"compatibility\":7}", "{}").get(random.nextInt(3)))
            .replaceFirst("POST", "PUT")));
        kinds.add(() -> Probe.of("bad subject", post("/subjects/" + List.of("%00", "a%0Ab", "x".repeat(300), "%2E%2E",
            "%7F", "back%5Cslash").get(random.nextInt(6)) + "/versions", "application/json", schemaBody(GOOD_SCHEMA))));
        kinds.add(() -> Probe.of("oversized schema", post(versions, "application/json",
            schemaBody("{\"type\":\"record\",\"name\":\"Big\",\"doc\":\"" + "d".repeat((1 << 20) + random.nextInt(4096))
                + "\",\"fields\":[]}"))));
        return kinds;
    }

    private static int registerGood(final int port) throws IOException {
        final RawHttp.Outcome outcome = request(port, "POST", "/subjects/good-value/versions", "application/json",
            schemaBody(GOOD_SCHEMA));
        assertThat(outcome.status()).as(String.valueOf(outcome.body())).isEqualTo(200);
        return JSON.readTree(outcome.body()).get("id").asInt();
    }

    private static RawHttp.Outcome get(final int port, final String path) throws IOException {
        return RawHttp.send(port, ("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII), false);
    }

    private static RawHttp.Outcome request(final int port, final String method, final String path,
                                           final String contentType, final String body) throws IOException {
        final String request = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
            + contentType + "\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
        return RawHttp.send(port, request.getBytes(StandardCharsets.UTF_8), false);
    }

    private static String abbreviate(final String text) {
        return text == null ? "null" : text.length() > 160 ? text.substring(0, 160) + "..." : text;
    }
}
