/**
 * Kafka serdes for Spillway's generated Avro records in Confluent's wire format (magic byte 0,
 * 4-byte schema id, Avro binary), with a {@link io.spillway.schemas.serde.SerdeException} reason for
 * every failure so callers can dead-letter bad records and retry registry outages.
 */
package io.spillway.schemas.serde;
