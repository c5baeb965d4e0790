package io.spillway.schemas.serde.internals;

import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryException;
import io.spillway.schemas.registry.UnknownSchemaException;
import io.spillway.schemas.registry.UnsupportedSchemaTypeException;
import io.spillway.schemas.serde.SerdeException;
import java.util.UUID;
import org.apache.avro.Schema;

/**
 * Fetches a record's writer schema by id or GUID, turning the registry client's failures into the deserializers'
 * {@link SerdeException} reasons: unknown, not Avro, or the registry unavailable (the one transient reason).
 */
public final class WriterSchemas {
    private WriterSchemas() {
    }

    /** @param ref an {@link Integer} schema id or a {@link UUID} GUID */
    public static Schema fetch(final SchemaRegistryClient client, final Object ref, final String topic) {
        final int id = idOf(ref);
        final String what = describe(ref);
        try {
            return ref instanceof UUID guid ? client.getByGuid(guid) : client.getById(id);
        } catch (final UnknownSchemaException e) {
            throw new SerdeException(SerdeException.Reason.UNKNOWN_SCHEMA_ID, id,
                    what + " is not known to the schema registry" + onTopic(topic) + ": " + e.getMessage(), e);
        } catch (final UnsupportedSchemaTypeException e) {
            throw new SerdeException(SerdeException.Reason.UNSUPPORTED_SCHEMA_TYPE, id,
                    what + " is a " + e.schemaType() + " schema, not Avro" + onTopic(topic), e);
        } catch (final SchemaRegistryException e) {
            throw new SerdeException(SerdeException.Reason.REGISTRY_UNAVAILABLE, id,
                    "cannot fetch " + what + " from the schema registry" + onTopic(topic) + ": " + e.getMessage(), e);
        }
    }

    /** The schema id a {@link SerdeException} names: the id, or -1 for a GUID. */
    public static int idOf(final Object ref) {
        return ref instanceof Integer i ? i : -1;
    }

    /** "schema id 7" or "schema GUID ...", for messages. */
    public static String describe(final Object ref) {
        return ref instanceof UUID ? "schema GUID " + ref : "schema id " + ref;
    }

    public static String onTopic(final String topic) {
        return topic == null ? "" : " on topic '" + topic + "'";
    }
}
