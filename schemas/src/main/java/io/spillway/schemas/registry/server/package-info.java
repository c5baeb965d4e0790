/**
 * A small Confluent-compatible Schema Registry server ({@link
 * io.spillway.schemas.registry.server.SchemaRegistryServer}) for tests, the one-command demo and
 * standalone use, persisted to an append-only JSON-lines file.
 */
package io.spillway.schemas.registry.server;
