package io.spillway.schemas.registry.server;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpServer;
import io.spillway.schemas.registry.internals.SchemaStore;
import io.spillway.schemas.registry.server.internals.BasicAuthFilter;
import io.spillway.schemas.registry.server.internals.RegistryHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small Confluent-compatible Schema Registry (AVRO schemas only) on the JDK's HTTP server.
 *
 * <p>Endpoints: {@code GET /}, {@code GET /subjects}, {@code POST /subjects/{s}} (lookup),
 * {@code DELETE /subjects/{s}} (soft delete: versions leave listings and lookups, their ids stay
 * readable, numbering continues; there is no hard delete), {@code GET|POST /subjects/{s}/versions},
 * {@code GET /subjects/{s}/versions/{v|latest}[/schema]}, {@code GET /schemas/ids/{id}[/schema]},
 * {@code POST /compatibility/subjects/{s}/versions[/{v|latest}]} ({@code ?verbose=true} adds messages),
 * {@code GET|PUT /config}, {@code GET|PUT|DELETE /config/{s}} ({@code ?defaultToGlobal=true}).
 * Errors use Confluent's JSON {@code {"error_code":..,"message":..}} and codes (40401 subject,
 * 40402 version, 40403 schema, 409 incompatible, 42201 invalid schema, 42202 invalid version,
 * 42203 invalid level, 40408 no subject-level config).
 *
 * <p>With a store file, every change is appended to a JSON-lines log and forced to disk before it is
 * acknowledged; the log is replayed on start, so ids and versions are stable across restarts. Without
 * one, state lives in memory. Optional HTTP basic auth. Requests run on a small fixed thread pool;
 * the store serializes changes. {@link #close()} stops the server and releases the store file.
 */
public final class SchemaRegistryServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistryServer.class);

    private final HttpServer http;
    private final ExecutorService executor;
    private final SchemaStore store;
    private final URI url;

    private SchemaRegistryServer(final HttpServer http, final ExecutorService executor, final SchemaStore store) {
        this.http = http;
        this.executor = executor;
        this.store = store;
        final InetSocketAddress bound = http.getAddress();
        final InetAddress address = bound.getAddress();
        final String host = address.isAnyLocalAddress() ? "127.0.0.1"
            : address.getHostAddress().contains(":") ? "[" + address.getHostAddress() + "]" : address.getHostAddress();
        this.url = URI.create("http://" + host + ":" + bound.getPort());
    }

    /**
     * Starts a registry without authentication.
     *
     * @param bind address and port to listen on (port 0: ephemeral); null means 127.0.0.1 with an ephemeral port
     * @param storeFile the JSON-lines store, created if missing; null keeps state in memory only
     * @return the running server; the caller closes it
     * @throws UncheckedIOException when the port cannot be bound, or the store cannot be read, is corrupt, or is
     *     held open by another registry (the file is locked while a server runs)
     */
    public static SchemaRegistryServer start(final InetSocketAddress bind, final Path storeFile) {
        return builder().bind(bind).storeFile(storeFile).start();
    }

    /** @return a builder for more options (basic auth, threads) */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the base URL clients use, e.g. {@code http://127.0.0.1:43817} */
    public URI url() {
        return url;
    }

    /** Stops accepting requests, waits briefly for running ones, and closes the store. Idempotent. */
    @Override
    public void close() {
        http.stop(0);
        executor.shutdown();
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (final InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
        store.close();
    }

    /** Options of a {@link SchemaRegistryServer}. Not thread-safe. */
    public static final class Builder {
        private InetSocketAddress bind;
        private Path storeFile;
        private final Map<String, String> users = new LinkedHashMap<>();
        private int threads = 4;

        private Builder() {
        }

        /** @param address where to listen; null: 127.0.0.1, ephemeral port @return this */
        public Builder bind(final InetSocketAddress address) {
            this.bind = address;
            return this;
        }

        /** @param file JSON-lines store; null: in memory @return this */
        public Builder storeFile(final Path file) {
            this.storeFile = file;
            return this;
        }

        /**
         * Requires HTTP basic auth; may be called for several users.
         *
         * @param user user name, without ':'
         * @param password password
         * @return this
         */
        public Builder basicAuth(final String user, final String password) {
            if (user == null || user.isEmpty() || user.contains(":") || password == null) {
                throw new IllegalArgumentException("basic auth needs a non-empty user without ':' and a password");
            }
            users.put(user, password);
            return this;
        }

        /** @param count request threads, at least 1 (default 4) @return this */
        public Builder threads(final int count) {
            if (count < 1) {
                throw new IllegalArgumentException("threads must be at least 1, was " + count);
            }
            this.threads = count;
            return this;
        }

        /** @return the started server */
        public SchemaRegistryServer start() {
            final InetSocketAddress address = bind != null ? bind
                : new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
            final SchemaStore store = storeFile == null ? SchemaStore.inMemory() : SchemaStore.open(storeFile);
            final AtomicInteger threadNo = new AtomicInteger();
            final ExecutorService executor = Executors.newFixedThreadPool(threads, r -> {
                final Thread t = new Thread(r, "schema-registry-http-" + threadNo.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            final HttpServer http;
            try {
                http = HttpServer.create(address, 64);
            } catch (final IOException e) {
                executor.shutdown();
                store.close();
                throw new UncheckedIOException("cannot listen on " + address + ": " + e.getMessage(), e);
            }
            final HttpContext context = http.createContext("/", new RegistryHandler(store));
            if (!users.isEmpty()) {
                context.getFilters().add(new BasicAuthFilter(users));
            }
            http.setExecutor(executor);
            http.start();
            final SchemaRegistryServer server = new SchemaRegistryServer(http, executor, store);
            LOG.info("Schema registry listening on {} (store: {}, basic auth: {})", server.url(),
                storeFile == null ? "in memory" : storeFile, users.isEmpty() ? "off" : users.size() + " user(s)");
            return server;
        }
    }

    /**
     * Runs a registry until the JVM is stopped.
     * Options: {@code --port N} (default 8081), {@code --bind HOST} (default 127.0.0.1),
     * {@code --store FILE} (default: in memory), {@code --basic-auth-file FILE} (lines {@code user:password};
     * a file, so secrets stay off the command line), {@code --threads N}.
     *
     * @param args the options
     */
    public static void main(final String[] args) throws IOException, InterruptedException {
        int port = 8081;
        String host = "127.0.0.1";
        final Builder builder = builder();
        for (int i = 0; i < args.length; i++) {
            final String option = args[i];
            if (option.equals("--help") || option.equals("-h")) {
                System.out.println("usage: SchemaRegistryServer [--port 8081] [--bind 127.0.0.1] [--store FILE]"
                    + " [--basic-auth-file FILE] [--threads 4]");
                return;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + option + " needs a value");
            }
            final String value = args[++i];
            switch (option) {
                case "--port" -> port = Integer.parseInt(value);
                case "--bind" -> host = value;
                case "--store" -> builder.storeFile(Path.of(value));
                case "--threads" -> builder.threads(Integer.parseInt(value));
                case "--basic-auth-file" -> {
                    final List<String> lines = Files.readAllLines(Path.of(value), StandardCharsets.UTF_8);
                    for (final String line : lines) {
                        final String trimmed = line.strip();
                        if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                            continue;
                        }
                        final int colon = trimmed.indexOf(':');
                        if (colon <= 0) {
                            throw new IllegalArgumentException("basic auth file lines must be user:password");
                        }
                        builder.basicAuth(trimmed.substring(0, colon), trimmed.substring(colon + 1));
                    }
                }
                default -> throw new IllegalArgumentException("unknown option " + option + " (try --help)");
            }
        }
        builder.bind(new InetSocketAddress(host, port));
        final SchemaRegistryServer server = builder.start();
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "schema-registry-shutdown"));
        System.out.println("Schema registry listening on " + server.url());
        stopped.await();
    }
}
