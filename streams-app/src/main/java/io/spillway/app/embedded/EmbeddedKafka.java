package io.spillway.app.embedded;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import kafka.server.BrokerServer;
import kafka.server.ControllerServer;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.server.SharedServer;
import kafka.server.StandardFaultHandlerFactory;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.metadata.BrokerState;
import org.apache.kafka.metadata.bootstrap.BootstrapMetadata;
import org.apache.kafka.metadata.properties.MetaPropertiesEnsemble;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.raft.QuorumConfig;
import org.apache.kafka.server.ServerSocketFactory;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * A single-node KRaft Kafka (broker and controller in one) inside this JVM, for the one-command demo and the
 * integration tests. Every listener binds to 127.0.0.1 only and is advertised there: nothing it starts is reachable
 * from another machine. Settings for one node: internal topics with replication factor 1, min ISR 1.
 *
 * <p>The client listener ({@link #BROKER_LISTENER}) speaks PLAINTEXT unless the {@link Builder} names another
 * protocol (SASL_SSL with SCRAM, for tests of secured clusters); the controller listener is PLAINTEXT on loopback.
 */
public final class EmbeddedKafka implements AutoCloseable {
    /** The listener clients (and the broker itself) use. */
    public static final String BROKER_LISTENER = "BROKER";
    /** The KRaft controller's listener. */
    public static final String CONTROLLER_LISTENER = "CONTROLLER";
    /** The one address every listener binds to. */
    public static final String HOST = "127.0.0.1";
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final int NODE_ID = 1;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

    private final Path baseDir;
    private final boolean deleteOnClose;
    private final Map<String, String> serverConfig;
    private final LoopbackSockets sockets;
    private final ControllerServer controller;
    private final BrokerServer broker;

    private EmbeddedKafka(final Path baseDir, final boolean deleteOnClose, final Map<String, String> serverConfig,
                          final LoopbackSockets sockets, final ControllerServer controller, final BrokerServer broker) {
        this.baseDir = baseDir;
        this.deleteOnClose = deleteOnClose;
        this.serverConfig = Map.copyOf(serverConfig);
        this.sockets = sockets;
        this.controller = controller;
        this.broker = broker;
    }

    /**
     * Formats (unless already formatted: a demo's {@code --data-dir} can be reused) and starts a single-node cluster
     * under {@code baseDir}, PLAINTEXT on loopback (a new temp folder, deleted on close, when null).
     */
    public static EmbeddedKafka start(final Path baseDir) throws Exception {
        return builder().baseDirectory(baseDir).start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Settings of the one node beyond the defaults; {@link #start()} builds it. */
    public static final class Builder {
        private Path baseDir;
        private SecurityProtocol brokerProtocol = SecurityProtocol.PLAINTEXT;
        private final Map<String, String> config = new LinkedHashMap<>();
        private final List<String> scramCredentials = new ArrayList<>();

        private Builder() {
        }

        /** Folder of the node's logs and metadata; null (the default) for a temp folder deleted on close. */
        public Builder baseDirectory(final Path dir) {
            this.baseDir = dir;
            return this;
        }

        /** The client listener's security protocol (default PLAINTEXT); configure it with {@link #config}. */
        public Builder brokerProtocol(final SecurityProtocol protocol) {
            this.brokerProtocol = protocol;
            return this;
        }

        /**
         * A server setting, applied after the defaults, e.g. {@code listener.name.broker.ssl.keystore.location}. The
         * listeners themselves are not settable: they stay on loopback.
         */
        public Builder config(final String key, final String value) {
            if (key.equals("listeners") || key.equals("advertised.listeners")
                    || key.equals("controller.quorum.voters")) {
                throw new IllegalArgumentException(key + " is fixed: every listener binds to " + HOST);
            }
            config.put(key, value);
            return this;
        }

        /**
         * A SCRAM credential written into the cluster's metadata when it is formatted, in the form of
         * {@code kafka-storage format --add-scram}, e.g. {@code SCRAM-SHA-512=[name=alice,password=...]}.
         */
        public Builder scramCredential(final String credential) {
            scramCredentials.add(credential);
            return this;
        }

        /** Formats the node's folders (unless already formatted), starts the node and waits until it serves. */
        public EmbeddedKafka start() throws Exception {
            final boolean temporary = baseDir == null;
            final Path dir = temporary ? Files.createTempDirectory("spillway-kafka") : Files.createDirectories(baseDir);
            final Path data = Files.createDirectories(dir.resolve("data"));
            final LoopbackSockets sockets = new LoopbackSockets();
            ControllerServer controller = null;
            BrokerServer broker = null;
            try {
                final int controllerPort = sockets.bind(CONTROLLER_LISTENER);
                final int brokerPort = sockets.bind(BROKER_LISTENER);
                final Map<String, String> props = serverConfig(data, controllerPort, brokerPort);
                final KafkaConfig kafkaConfig = new KafkaConfig(props, false);
                format(data, kafkaConfig);
                final Tuple2<MetaPropertiesEnsemble, BootstrapMetadata> initialized =
                        KafkaRaftServer.initializeLogDirs(kafkaConfig, LOG, "[EmbeddedKafka] ");
                final SharedServer shared = new SharedServer(kafkaConfig, initialized._1(), Time.SYSTEM, new Metrics(),
                        CompletableFuture.completedFuture(QuorumConfig.parseVoterConnections(
                                kafkaConfig.quorumConfig().voters())),
                        QuorumConfig.parseBootstrapServers(kafkaConfig.quorumConfig().bootstrapServers()),
                        new StandardFaultHandlerFactory(), sockets);
                controller = new ControllerServer(shared, KafkaRaftServer.configSchema(), initialized._2());
                broker = new BrokerServer(shared);
                controller.startup();
                broker.startup();
                awaitRunning(broker);
                return new EmbeddedKafka(dir, temporary, props, sockets, controller, broker);
            } catch (final Exception | Error e) {
                shutdown(broker, controller);
                sockets.close();
                if (temporary) {
                    Utils.delete(dir.toFile());
                }
                throw e;
            }
        }

        private Map<String, String> serverConfig(final Path data, final int controllerPort, final int brokerPort) {
            final Map<String, String> props = new HashMap<>();
            props.put("process.roles", "broker,controller");
            props.put("node.id", Integer.toString(NODE_ID));
            props.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
            props.put("controller.listener.names", CONTROLLER_LISTENER);
            props.put("listeners", BROKER_LISTENER + "://" + HOST + ":" + brokerPort + "," + CONTROLLER_LISTENER + "://"
                    + HOST + ":" + controllerPort);
            props.put("advertised.listeners", BROKER_LISTENER + "://" + HOST + ":" + brokerPort);
            props.put("listener.security.protocol.map", BROKER_LISTENER + ":" + brokerProtocol.name + ","
                    + CONTROLLER_LISTENER + ":PLAINTEXT");
            props.put("inter.broker.listener.name", BROKER_LISTENER);
            props.put("log.dirs", data.toString());
            props.put("offsets.topic.replication.factor", "1");
            props.put("offsets.topic.num.partitions", "4");
            props.put("transaction.state.log.replication.factor", "1");
            props.put("transaction.state.log.min.isr", "1");
            props.put("transaction.state.log.num.partitions", "4");
            props.put("share.coordinator.state.topic.replication.factor", "1");
            props.put("share.coordinator.state.topic.min.isr", "1");
            props.put("min.insync.replicas", "1");
            props.put("default.replication.factor", "1");
            props.put("group.initial.rebalance.delay.ms", "0");
            props.put("auto.create.topics.enable", "false");
            // the log cleaner's dedupe buffer is 128 MiB by default: too much of a demo's heap
            props.put("log.cleaner.dedupe.buffer.size", Integer.toString(2 << 20));
            props.putAll(config);
            return props;
        }

        private void format(final Path data, final KafkaConfig kafkaConfig) throws Exception {
            final Formatter formatter = new Formatter()
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setNodeId(NODE_ID)
                    .setClusterId(Uuid.randomUuid().toString())
                    .setDirectories(List.of(data.toString()))
                    .setMetadataLogDirectory(kafkaConfig.metadataLogDir())
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .setIgnoreFormatted(true);
            if (!scramCredentials.isEmpty()) {
                formatter.setScramArguments(scramCredentials);
            }
            formatter.run();
        }
    }

    private static void awaitRunning(final BrokerServer broker) throws InterruptedException {
        final long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (broker.brokerState() != BrokerState.RUNNING) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the embedded broker is " + broker.brokerState() + " after "
                        + READY_TIMEOUT);
            }
            Thread.sleep(20);
        }
    }

    private static void shutdown(final BrokerServer broker, final ControllerServer controller) {
        if (broker != null) {
            broker.shutdown();
        }
        if (controller != null) {
            controller.shutdown();
        }
    }

    /** {@code 127.0.0.1:<port>} of the client listener. */
    public String bootstrapServers() {
        return HOST + ":" + brokerPort();
    }

    /** The client listener's port. */
    public int brokerPort() {
        return broker.boundPort(ListenerName.normalised(BROKER_LISTENER));
    }

    /** The controller listener's port. */
    public int controllerPort() {
        return controller.socketServer().boundPort(ListenerName.normalised(CONTROLLER_LISTENER));
    }

    /** The node's server settings as given to Kafka (listeners, protocols, ...), for inspection. */
    public Map<String, String> serverConfig() {
        return serverConfig;
    }

    /**
     * Stops the broker side of the node (the controller keeps running), as a broker crash or restart would look
     * to clients: connections drop and requests time out until {@link #startBroker()}. For fault tests.
     */
    public void stopBroker() {
        broker.shutdown();
    }

    /**
     * Starts the broker again in place: same node id, log directories and listener port, so the data written
     * before the stop is served again at the same bootstrap address.
     */
    public void startBroker() throws Exception {
        broker.startup();
        awaitRunning(broker);
    }

    @Override
    public void close() throws Exception {
        shutdown(broker, controller);
        sockets.close();
        if (deleteOnClose) {
            Utils.delete(baseDir.toFile());
        }
    }

    /**
     * Hands Kafka's socket server listener sockets bound to loopback: the first time a listener opens, the socket
     * bound before the configuration was written (so its port was known without a race); after a broker restart, a
     * new socket on the same loopback address and port. It refuses any other address.
     */
    private static final class LoopbackSockets implements ServerSocketFactory {
        private final Map<String, ServerSocketChannel> prebound = new HashMap<>();

        /** Binds a socket for {@code listener} on 127.0.0.1 and any free port, and returns the port. */
        synchronized int bind(final String listener) throws IOException {
            final ServerSocketChannel channel = ServerSocketFactory.INSTANCE.openServerSocket(listener,
                    new InetSocketAddress(InetAddress.getByName(HOST), 0), -1, -1);
            prebound.put(listener, channel);
            return ((InetSocketAddress) channel.getLocalAddress()).getPort();
        }

        @Override
        public synchronized ServerSocketChannel openServerSocket(final String listenerName,
                final InetSocketAddress address, final int listenBacklogSize, final int recvBufferSize)
                throws IOException {
            final ServerSocketChannel bound = prebound.remove(listenerName);
            if (bound != null && bound.isOpen()) {
                return bound;
            }
            if (address.getAddress() == null || !address.getAddress().isLoopbackAddress()) {
                throw new IOException("the embedded broker listens only on loopback, not on " + address);
            }
            return ServerSocketFactory.INSTANCE.openServerSocket(listenerName, address, listenBacklogSize,
                    recvBufferSize);
        }

        synchronized void close() throws IOException {
            for (final ServerSocketChannel channel : prebound.values()) {
                channel.close();
            }
            prebound.clear();
        }
    }
}
