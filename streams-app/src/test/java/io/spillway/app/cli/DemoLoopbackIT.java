package io.spillway.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.spillway.app.it.ListeningSockets;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Everything {@code spillway demo} starts (broker listener, controller listener, registry, operations endpoint)
 * listens on loopback only: every socket this process listens on while the demo runs is sampled from the kernel.
 */
@Tag("hostile-input")
class DemoLoopbackIT {

    @Test
    void theDemoListensOnLoopbackOnly(@TempDir final Path dir) throws Exception {
        assumeTrue(ListeningSockets.available(), "no /proc/net/tcp to read the bound sockets from");
        final Set<InetSocketAddress> seen = ConcurrentHashMap.newKeySet();
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread sampler = new Thread(() -> {
            while (running.get()) {
                try {
                    seen.addAll(ListeningSockets.ofThisProcess());
                    Thread.sleep(50);
                } catch (final Exception e) {
                    return;
                }
            }
        }, "socket-sampler");
        sampler.setDaemon(true);
        final List<InetSocketAddress> before = ListeningSockets.ofThisProcess();
        sampler.start();
        final int code;
        try {
            code = SpillwayCli.execute("demo", "--events=3000", "--keys=8", "--warm-up=PT0S", "--ops-port=0",
                    "--data-dir=" + dir, "--hidden-size=32", "--snapshot-every=0");
        } finally {
            running.set(false);
            sampler.join(5_000);
        }
        assertThat(code).isZero();
        seen.removeAll(before);
        assertThat(seen.stream().map(InetSocketAddress::getPort).distinct().count())
                .as("broker, controller, registry and operations endpoint listened: %s", seen)
                .isGreaterThanOrEqualTo(4);
        assertThat(seen).allSatisfy(a -> assertThat(a.getAddress().isLoopbackAddress()).as(a.toString()).isTrue());
    }
}
