package io.spillway.schemas.registry.server;

import io.spillway.schemas.registry.internals.SchemaStore;
import io.spillway.schemas.registry.server.internals.BasicAuth;
import io.spillway.schemas.registry.server.internals.JsonErrorHandler;
import io.spillway.schemas.registry.server.internals.PlaintextOnTlsPort;
import io.spillway.schemas.registry.server.internals.RegistryApi;
import io.spillway.schemas.registry.server.internals.RegistryHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small Confluent-compatible Schema Registry (AVRO schemas only) on an embedded Jetty.
 *
 * <p>Endpoints: {@code GET /}, {@code GET /subjects}, {@code POST /subjects/{s}} (lookup),
 * {@code DELETE /subjects/{s}} (soft delete: versions leave listings and lookups, their ids stay
 * readable, numbering continues; there is no hard delete), {@code GET|POST /subjects/{s}/versions},
 * {@code GET /subjects/{s}/versions/{v|latest}[/schema]}, {@code GET /schemas/ids/{id}[/schema]},
 * {@code POST /compatibility/subjects/{s}/versions[/{v|latest}]} ({@code ?verbose=true} adds messages),
 * {@code GET|PUT /config}, {@code GET|PUT|DELETE /config/{s}} ({@code ?defaultToGlobal=true}).
 * Errors use Confluent's JSON {@code {"error_code":..,"message":..}} and codes (40401 subject,
 * 40402 version, 40403 schema, 409 incompatible, 42201 invalid schema, 42202 invalid version,
 * 42203 invalid level, 42205 a limit is reached, 42208 invalid subject name, 42209 schema too large,
 * 40408 no subject-level config); malformed requests get 400, 405, 408, 413, 415 or 431 with the same
 * JSON body.
 *
 * <p>Robustness: connections are served by NIO, so an idle or slow client holds a connection but no
 * thread; a connection idle for {@link Builder#idleTimeout} is closed (sooner once
 * {@link Builder#maxConnections} are open), a request body must arrive within
 * {@link Builder#requestTimeout}, and the request bodies held at once are bounded in memory. The
 * store's limits ({@link Builder#maxSchemas} and the like) bound what clients can make it hold.
 *
 * <p>With a store file, every change is appended to a checksummed JSON-lines log and forced to disk
 * before it is acknowledged; the log is replayed on start, so ids and versions are stable across
 * restarts. Without one, state lives in memory. Optional HTTPS (a PKCS12 key store) and HTTP basic
 * auth. {@link #close()} stops the server and releases the store file.
 */
public final class SchemaRegistryServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistryServer.class);

    private final Server jetty;
    private final SchemaStore store;
    private final URI url;

    private SchemaRegistryServer(final Server jetty, final ServerConnector connector, final SchemaStore store,
                                 final boolean tls) {
        this.jetty = jetty;
        this.store = store;
        final String bound = connector.getHost();
        final String host;
        if (bound == null || bound.isEmpty() || bound.equals("0.0.0.0") || bound.equals("::")) {
            host = "127.0.0.1";
        } else {
            host = bound.contains(":") && !bound.startsWith("[") ? "[" + bound + "]" : bound;
        }
        this.url = URI.create((tls ? "https" : "http") + "://" + host + ":" + connector.getLocalPort());
    }

    /**
     * Starts a registry without authentication, with the default limits.
     *
     * @param bind address and port to listen on (port 0: ephemeral); null means 127.0.0.1 with an ephemeral port
     * @param storeFile the JSON-lines store, created if missing; null keeps state in memory only
     * @return the running server; the caller closes it
     * @throws UncheckedIOException when the port cannot be bound, or the store cannot be read, is corrupt (the
     *     message names {@code file:line}), or is held open by another registry (the file is locked while a
     *     server runs)
     */
    public static SchemaRegistryServer start(final InetSocketAddress bind, final Path storeFile) {
        return builder().bind(bind).storeFile(storeFile).start();
    }

    /** @return a builder for more options (TLS, basic auth, limits, timeouts, threads) */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the base URL clients use, e.g. {@code http://127.0.0.1:43817} or {@code https://...} */
    public URI url() {
        return url;
    }

    /** Stops accepting requests, waits briefly for running ones, and closes the store. Idempotent. */
    @Override
    public void close() {
        try {
            jetty.stop();
        } catch (final Exception e) {
            LOG.warn("Schema registry on {} did not stop cleanly: {}", url, e.toString());
        } finally {
            store.close();
        }
    }

    /** Options of a {@link SchemaRegistryServer}. Not thread-safe. */
    public static final class Builder {
        private InetSocketAddress bind;
        private Path storeFile;
        private final Map<String, String> users = new LinkedHashMap<>();
        private int threads = 8;
        private int maxConnections = 512;
        private Duration idleTimeout = Duration.ofSeconds(30);
        private Duration requestTimeout = Duration.ofSeconds(30);
        private int maxSchemas = SchemaStore.Limits.DEFAULT.maxSchemas();
        private int maxSubjects = SchemaStore.Limits.DEFAULT.maxSubjects();
        private int maxVersionsPerSubject = SchemaStore.Limits.DEFAULT.maxVersionsPerSubject();
        private int maxSchemaBytes = SchemaStore.Limits.DEFAULT.maxSchemaBytes();
        private Path keyStore;
        private String keyStorePassword;

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
         * @param password password; kept only in memory, never logged
         * @return this
         */
        public Builder basicAuth(final String user, final String password) {
            if (user == null || user.isEmpty() || user.contains(":") || password == null) {
                throw new IllegalArgumentException("basic auth needs a non-empty user without ':' and a password");
            }
            users.put(user, password);
            return this;
        }

        /**
         * Serves HTTPS only, with the key and certificate of a PKCS12 key store. A plain-HTTP client
         * is answered 400 with a message to use https://.
         *
         * @param pkcs12 the key store file
         * @param password its password (also the key's); never logged
         * @return this
         */
        public Builder tls(final Path pkcs12, final String password) {
            if (pkcs12 == null || password == null) {
                throw new IllegalArgumentException("TLS needs a key store file and its password");
            }
            this.keyStore = pkcs12;
            this.keyStorePassword = password;
            return this;
        }

        /** @param count threads that run requests, at least 1 (default 8) @return this */
        public Builder threads(final int count) {
            this.threads = atLeastOne("threads", count);
            return this;
        }

        /**
         * @param count open connections at most (default 512); past it new connections wait in the
         *     accept queue and idle ones are closed after a second
         * @return this
         */
        public Builder maxConnections(final int count) {
            this.maxConnections = atLeastOne("maxConnections", count);
            return this;
        }

        /** @param timeout how long a connection may stay silent (default 30 s) @return this */
        public Builder idleTimeout(final Duration timeout) {
            this.idleTimeout = positive("idleTimeout", timeout);
            return this;
        }

        /** @param timeout how long a request body may take to arrive (default 30 s) @return this */
        public Builder requestTimeout(final Duration timeout) {
            this.requestTimeout = positive("requestTimeout", timeout);
            return this;
        }

        /** @param count distinct schemas (ids) the registry holds at most (default 10,000) @return this */
        public Builder maxSchemas(final int count) {
            this.maxSchemas = atLeastOne("maxSchemas", count);
            return this;
        }

        /** @param count subjects at most, soft-deleted ones included (default 10,000) @return this */
        public Builder maxSubjects(final int count) {
            this.maxSubjects = atLeastOne("maxSubjects", count);
            return this;
        }

        /** @param count versions of one subject at most, soft-deleted ones included (default 1,000) @return this */
        public Builder maxVersionsPerSubject(final int count) {
            this.maxVersionsPerSubject = atLeastOne("maxVersionsPerSubject", count);
            return this;
        }

        /**
         * @param bytes UTF-8 bytes of one schema's text at most (default 1 MiB); request bodies may be
         *     twice that plus 64 KiB, room for JSON escaping
         * @return this
         */
        public Builder maxSchemaBytes(final int bytes) {
            this.maxSchemaBytes = Math.min(atLeastOne("maxSchemaBytes", bytes), 256 << 20);
            return this;
        }

        private static int atLeastOne(final String name, final int value) {
            if (value < 1) {
                throw new IllegalArgumentException(name + " must be at least 1, was " + value);
            }
            return value;
        }

        private static Duration positive(final String name, final Duration value) {
            if (value == null || value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, was " + value);
            }
            return value;
        }

        /**
         * @return the started server
         * @throws UncheckedIOException see {@link SchemaRegistryServer#start}
         */
        public SchemaRegistryServer start() {
            final InetSocketAddress address = bind != null ? bind
                : new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
            final SchemaStore.Limits limits = new SchemaStore.Limits(maxSchemas, maxSubjects, maxVersionsPerSubject,
                maxSchemaBytes);
            final SchemaStore store = storeFile == null ? SchemaStore.inMemory(limits)
                : SchemaStore.open(storeFile, limits);
            final Server jetty = newJetty();
            final ServerConnector connector = newConnector(jetty, address);
            final int maxRequestBytes = maxSchemaBytes * 2 + (64 << 10);
            final int bodyBudget = (int) Math.min(Integer.MAX_VALUE, 16L * maxRequestBytes);
            jetty.setHandler(new RegistryHandler(new RegistryApi(store), new BasicAuth(users), maxRequestBytes,
                requestTimeout.toMillis(), bodyBudget));
            try {
                jetty.start();
            } catch (final Exception e) {
                try {
                    jetty.stop();
                } catch (final Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
                store.close();
                throw new UncheckedIOException("cannot serve the schema registry on " + address + ": " + e.getMessage(),
                    e instanceof IOException io ? io : new IOException(e));
            }
            final SchemaRegistryServer server = new SchemaRegistryServer(jetty, connector, store, keyStore != null);
            LOG.info("Schema registry listening on {} (store: {}, basic auth: {}, limits: {} schemas, {} subjects,"
                    + " {} versions per subject, {} bytes per schema)", server.url(),
                storeFile == null ? "in memory" : storeFile, users.isEmpty() ? "off" : users.size() + " user(s)",
                maxSchemas, maxSubjects, maxVersionsPerSubject, maxSchemaBytes);
            return server;
        }

        private Server newJetty() {
            // One acceptor and one selector thread besides the workers; connections wait in the selector, not on threads.
            final QueuedThreadPool pool = new QueuedThreadPool(threads + 2, Math.min(threads + 2, 4));
            pool.setName("schema-registry-http");
            pool.setDaemon(true);
            pool.setReservedThreads(0);
            final Server jetty = new Server(pool, new ScheduledExecutorScheduler("schema-registry-timer", true), null);
            jetty.setErrorHandler(new JsonErrorHandler());
            jetty.setStopTimeout(0);
            return jetty;
        }

        private ServerConnector newConnector(final Server jetty, final InetSocketAddress address) {
            final HttpConfiguration http = new HttpConfiguration();
            http.setSendServerVersion(false);
            http.setSendXPoweredBy(false);
            http.setRequestHeaderSize(8 << 10);
            http.setIdleTimeout(idleTimeout.toMillis());
            final HttpConnectionFactory plain = new HttpConnectionFactory(http);
            final ConnectionFactory[] factories;
            if (keyStore == null) {
                factories = new ConnectionFactory[] {plain};
            } else {
                final SslContextFactory.Server tls = new SslContextFactory.Server();
                tls.setKeyStorePath(keyStore.toAbsolutePath().toString());
                tls.setKeyStoreType("PKCS12");
                tls.setKeyStorePassword(keyStorePassword);
                final SslConnectionFactory ssl = new SslConnectionFactory(tls, HttpVersion.HTTP_1_1.asString());
                factories = new ConnectionFactory[] {new PlaintextOnTlsPort(ssl), ssl, plain};
            }
            final ServerConnector connector = new ServerConnector(jetty, 1, 1, factories);
            connector.setHost(address.getAddress() == null ? address.getHostString()
                : address.getAddress().getHostAddress());
            connector.setPort(address.getPort());
            connector.setIdleTimeout(idleTimeout.toMillis());
            connector.setAcceptQueueSize(128);
            jetty.addConnector(connector);
            final NetworkConnectionLimit limit = new NetworkConnectionLimit(maxConnections, connector);
            limit.setEndPointIdleTimeout(Math.min(idleTimeout.toMillis(), 1_000));
            jetty.addBean(limit);
            return connector;
        }
    }

    /**
     * Runs a registry until the JVM is stopped.
     * Options: {@code --port N} (default 8081), {@code --bind HOST} (default 127.0.0.1),
     * {@code --store FILE} (default: in memory), {@code --basic-auth-file FILE} (lines {@code user:password};
     * a file, so secrets stay off the command line), {@code --tls-keystore FILE} with
     * {@code --tls-keystore-password-file FILE} (HTTPS from a PKCS12 key store), {@code --threads N},
     * {@code --max-schemas N}, {@code --max-subjects N}, {@code --max-versions-per-subject N},
     * {@code --max-schema-bytes N}.
     *
     * @param args the options
     */
    public static void main(final String[] args) throws IOException, InterruptedException {
        int port = 8081;
        String host = "127.0.0.1";
        Path keyStore = null;
        String keyStorePassword = null;
        final Builder builder = builder();
        for (int i = 0; i < args.length; i++) {
            final String option = args[i];
            if (option.equals("--help") || option.equals("-h")) {
                System.out.println("usage: SchemaRegistryServer [--port 8081] [--bind 127.0.0.1] [--store FILE]"
                    + " [--basic-auth-file FILE] [--tls-keystore FILE.p12 --tls-keystore-password-file FILE]"
                    + " [--threads 8] [--max-schemas N] [--max-subjects N] [--max-versions-per-subject N]"
                    + " [--max-schema-bytes N]");
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
                case "--max-schemas" -> builder.maxSchemas(Integer.parseInt(value));
                case "--max-subjects" -> builder.maxSubjects(Integer.parseInt(value));
                case "--max-versions-per-subject" -> builder.maxVersionsPerSubject(Integer.parseInt(value));
                case "--max-schema-bytes" -> builder.maxSchemaBytes(Integer.parseInt(value));
                case "--tls-keystore" -> keyStore = Path.of(value);
                case "--tls-keystore-password-file" ->
                    keyStorePassword = Files.readString(Path.of(value), StandardCharsets.UTF_8).strip();
                case "--basic-auth-file" -> readUsers(Path.of(value), builder);
                default -> throw new IllegalArgumentException("unknown option " + option + " (try --help)");
            }
        }
        if ((keyStore == null) != (keyStorePassword == null)) {
            throw new IllegalArgumentException("--tls-keystore and --tls-keystore-password-file go together");
        }
        if (keyStore != null) {
            builder.tls(keyStore, keyStorePassword);
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

    private static void readUsers(final Path file, final Builder builder) throws IOException {
        final List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
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
}
