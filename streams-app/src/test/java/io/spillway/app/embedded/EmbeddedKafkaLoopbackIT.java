package io.spillway.app.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.spillway.app.it.ListeningSockets;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The embedded broker and controller listen on loopback only, and advertise loopback. */
@Tag("hostile-input")
class EmbeddedKafkaLoopbackIT {

    @Test
    void everyListenerIsBoundToAndAdvertisedOnLoopback() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(null)) {
            final Map<String, String> config = kafka.serverConfig();
            assertThat(config.get("listeners")).isEqualTo("BROKER://127.0.0.1:" + kafka.brokerPort()
                    + ",CONTROLLER://127.0.0.1:" + kafka.controllerPort());
            assertThat(config.get("advertised.listeners")).isEqualTo("BROKER://127.0.0.1:" + kafka.brokerPort());
            assertThat(config.get("controller.quorum.voters")).isEqualTo("1@127.0.0.1:" + kafka.controllerPort());
            assertThat(kafka.bootstrapServers()).isEqualTo("127.0.0.1:" + kafka.brokerPort());
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
                final List<Node> nodes = List.copyOf(admin.describeCluster().nodes().get());
                assertThat(nodes).singleElement().satisfies(n -> assertThat(n.host()).isEqualTo("127.0.0.1"));
            }
            assumeTrue(ListeningSockets.available(), "no /proc/net/tcp to read the bound sockets from");
            final List<InetSocketAddress> bound = ListeningSockets.ofThisProcess().stream()
                    .filter(a -> a.getPort() == kafka.brokerPort() || a.getPort() == kafka.controllerPort()).toList();
            assertThat(bound).as("the kernel's listening sockets on the broker's and controller's ports").hasSize(2)
                    .allSatisfy(a -> assertThat(a.getAddress().isLoopbackAddress()).as(a.toString()).isTrue());
        }
    }

    @Test
    void aBrokerRestartKeepsItsLoopbackAddressAndPort() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(null)) {
            final String before = kafka.bootstrapServers();
            kafka.stopBroker();
            kafka.startBroker();
            assertThat(kafka.bootstrapServers()).isEqualTo(before);
            if (ListeningSockets.available()) {
                assertThat(ListeningSockets.ofThisProcess()).filteredOn(a -> a.getPort() == kafka.brokerPort())
                        .singleElement().satisfies(a -> assertThat(a.getAddress().isLoopbackAddress()).isTrue());
            }
        }
    }

    @Test
    void theListenersCannotBeMovedOffLoopback() {
        assertThatThrownBy(() -> EmbeddedKafka.builder().config("listeners", "BROKER://0.0.0.0:0"))
                .hasMessageContaining("127.0.0.1");
    }
}
