package io.spillway.schemas.serde.internals;

import io.spillway.schemas.serde.SerdeException;
import java.nio.ByteBuffer;
import java.util.UUID;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * The writer schema named in a record header, as Confluent's newer serializers write it (their "header" schema id
 * framing): header {@code __value_schema_id} (or {@code __key_schema_id}) holding a version byte and the schema's
 * GUID ({@code 0x01} and 16 bytes, most significant first) or its id ({@code 0x00} and 4 bytes, big-endian); the
 * record's bytes are then the Avro body alone, without the 5-byte prefix. A header wins over a prefix, as in
 * Confluent's deserializers.
 */
public final class HeaderSchemaId {
    public static final String KEY_HEADER = "__key_schema_id";
    public static final String VALUE_HEADER = "__value_schema_id";
    private static final byte ID_VERSION = 0;
    private static final byte GUID_VERSION = 1;

    private HeaderSchemaId() {
    }

    /** Whether the record names its writer schema in a header. */
    public static boolean present(final Headers headers, final boolean isKey) {
        final Header h = headers == null ? null : headers.lastHeader(isKey ? KEY_HEADER : VALUE_HEADER);
        return h != null && h.value() != null;
    }

    /**
     * @return the schema the header names: an {@link Integer} id or a {@link UUID} GUID; null without the header
     * @throws SerdeException ({@link SerdeException.Reason#MALFORMED_SCHEMA_ID_HEADER}) for a header of another form
     */
    public static Object read(final Headers headers, final boolean isKey, final String topic) {
        if (!present(headers, isKey)) {
            return null;
        }
        final String name = isKey ? KEY_HEADER : VALUE_HEADER;
        final byte[] v = headers.lastHeader(name).value();
        if (v.length == 5 && v[0] == ID_VERSION) {
            return ByteBuffer.wrap(v, 1, 4).getInt();
        }
        if (v.length == 17 && v[0] == GUID_VERSION) {
            final ByteBuffer b = ByteBuffer.wrap(v, 1, 16);
            return new UUID(b.getLong(), b.getLong());
        }
        throw new SerdeException(SerdeException.Reason.MALFORMED_SCHEMA_ID_HEADER, -1, "the " + name + " header of "
                + v.length + " bytes" + (v.length > 0 ? String.format(" starting 0x%02x", v[0] & 0xff) : "")
                + " is neither a schema GUID (0x01 and 16 bytes) nor a schema id (0x00 and 4 bytes)"
                + (topic == null ? "" : " on topic '" + topic + "'"), null);
    }

    /** The header's value naming a GUID, for producers and tests. */
    public static byte[] guidHeader(final UUID guid) {
        return ByteBuffer.allocate(17).put(GUID_VERSION).putLong(guid.getMostSignificantBits())
                .putLong(guid.getLeastSignificantBits()).array();
    }

    /** The header's value naming an id. */
    public static byte[] idHeader(final int id) {
        return ByteBuffer.allocate(5).put(ID_VERSION).putInt(id).array();
    }
}
