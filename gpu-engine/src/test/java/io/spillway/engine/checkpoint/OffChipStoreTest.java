package io.spillway.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.checkpoint.store.HostMemoryStore;
import io.spillway.engine.checkpoint.store.MappedFileStore;
import io.spillway.engine.checkpoint.store.OffChipStore;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OffChipStoreTest {
    @TempDir
    Path dir;

    @Test
    void hostMemoryRoundTripsRecordsOfAnyLengthAndReusesSlotsAsARing() {
        try (OffChipStore store = new HostMemoryStore(3, 100)) {
            roundTrips(store);
        }
    }

    @Test
    void mappedFileRoundTripsWithPageAlignedSlotsInTheGivenFolderAndIsDeletedOnClose() throws Exception {
        final Path file;
        try (MappedFileStore store = new MappedFileStore(dir, 3, 100)) {
            file = store.file();
            assertThat(file.getParent()).isEqualTo(dir);
            assertThat(Files.size(file)).isEqualTo(3 * 4096);
            roundTrips(store);
        }
        assertThat(file).doesNotExist();
    }

    private static void roundTrips(final OffChipStore store) {
        store.write(0, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        store.write(1, ByteBuffer.wrap(new byte[100]));
        store.write(2, ByteBuffer.wrap(new byte[0]));
        assertThat(bytes(store.read(0))).containsExactly(1, 2, 3);
        assertThat(store.read(1).remaining()).isEqualTo(100);
        assertThat(store.read(2).remaining()).isZero();
        store.write(3, ByteBuffer.wrap(new byte[] {9})); // slot 3 is slot 0 again
        assertThat(bytes(store.read(0))).containsExactly(9);
        assertThatThrownBy(() -> store.write(1, ByteBuffer.wrap(new byte[101])))
                .hasMessageContaining("exceeds the slot size 100");
    }

    private static byte[] bytes(final ByteBuffer b) {
        final byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
