package io.spillway.app.vocabulary;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.testing.GoldenFiles;
import java.util.Arrays;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.Test;

/**
 * Golden bytes of a published dictionary record (docs/formats.md, "Vocabulary records"): the file holds the key
 * (the category {@code /café} as UTF-8, 6 bytes) then the value (id 300, 4 bytes big-endian). The stream task's store
 * writes its changelog with Kafka's String and Integer serdes; readers decode it with {@link VocabularyTopic}: both
 * must give these bytes.
 */
class VocabularyFormatGoldenTest {
    @Test
    void aGoldenVocabularyRecordIsWhatTheStoreWritesAndWhatReadersDecode() {
        final byte[] golden = GoldenFiles.read("vocabulary-record-v1.bin");
        final byte[] key = Arrays.copyOf(golden, 6);
        final byte[] value = Arrays.copyOfRange(golden, 6, golden.length);
        assertThat(Serdes.String().serializer().serialize("t", "/café")).isEqualTo(key);
        assertThat(Serdes.Integer().serializer().serialize("t", 300)).isEqualTo(value);
        assertThat(VocabularyTopic.key("/café")).isEqualTo(key);
        assertThat(VocabularyTopic.value(300)).isEqualTo(value);
        assertThat(VocabularyTopic.category(key)).isEqualTo("/café");
        assertThat(VocabularyTopic.id(value)).isEqualTo(300);
        assertThatThrownBy(() -> VocabularyTopic.id(new byte[3])).hasMessageContaining("4-byte id");
        assertThat(VocabularyTopic.name("clicks")).isEqualTo("clicks-vocabulary-changelog");
    }
}
