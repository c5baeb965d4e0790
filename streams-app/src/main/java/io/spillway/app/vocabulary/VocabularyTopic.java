package io.spillway.app.vocabulary;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The published dictionary: the changelog of the stream tasks' {@link #STORE} store, which Kafka Streams names
 * {@code <application-id>-vocabulary-changelog}, creates compacted and writes in the same exactly-once transaction
 * as the chunks that first use an id. One record per category: key = the category's UTF-8 text, value = its id
 * as 4 bytes, big-endian (Kafka's {@code IntegerSerializer}). Ids never change, so compaction loses nothing.
 */
public final class VocabularyTopic {
    /** The topology's state store of the dictionary. */
    public static final String STORE = "vocabulary";

    private VocabularyTopic() {
    }

    /** The topic of an application's dictionary. */
    public static String name(final String applicationId) {
        return applicationId + "-" + STORE + "-changelog";
    }

    /** A record's key: the category. */
    public static byte[] key(final String category) {
        return category.getBytes(StandardCharsets.UTF_8);
    }

    /** A record's value: the id. */
    public static byte[] value(final int id) {
        return ByteBuffer.allocate(4).putInt(id).array();
    }

    public static String category(final byte[] key) {
        return new String(key, StandardCharsets.UTF_8);
    }

    /** @throws IllegalArgumentException for a value that is not 4 bytes */
    public static int id(final byte[] value) {
        if (value == null || value.length != 4) {
            throw new IllegalArgumentException("a vocabulary record's value is a 4-byte id, not "
                    + (value == null ? "null" : value.length + " bytes"));
        }
        return ByteBuffer.wrap(value).getInt();
    }
}
