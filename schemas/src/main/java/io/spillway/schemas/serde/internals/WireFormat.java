package io.spillway.schemas.serde.internals;

/**
 * Confluent's wire format: magic byte 0, the schema id as a 4-byte big-endian int, then the Avro
 * binary body.
 */
public final class WireFormat {
    /** The only magic byte defined. */
    public static final byte MAGIC_BYTE = 0;
    /** Magic byte plus schema id. */
    public static final int HEADER_SIZE = 5;

    private WireFormat() {
    }

    /** Writes the header into the first 5 bytes of {@code target}. */
    public static void writeHeader(final byte[] target, final int schemaId) {
        target[0] = MAGIC_BYTE;
        target[1] = (byte) (schemaId >>> 24);
        target[2] = (byte) (schemaId >>> 16);
        target[3] = (byte) (schemaId >>> 8);
        target[4] = (byte) schemaId;
    }

    /** @return the schema id in bytes 1..4 (the caller checked the length) */
    public static int readSchemaId(final byte[] data) {
        return (data[1] & 0xff) << 24 | (data[2] & 0xff) << 16 | (data[3] & 0xff) << 8 | data[4] & 0xff;
    }
}
