/**
 * The field mapping from a user's own record (an Avro record of any registered schema, a JSON object) to what the
 * learner needs: entity id, event time, event type, optional label and features. {@link io.spillway.app.mapping.FieldMapping}
 * is read from a small properties file ({@code --mapping}); see docs/input-formats.md.
 */
package io.spillway.app.mapping;
