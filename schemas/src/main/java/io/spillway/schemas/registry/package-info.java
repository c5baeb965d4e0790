/**
 * Schema Registry client API: a Confluent-compatible REST API subset ({@link
 * io.spillway.schemas.registry.SchemaRegistryClient}), created by {@link
 * io.spillway.schemas.registry.SchemaRegistryClients} for {@code http(s)://} registries or an in-memory
 * {@code mock://} registry for unit tests, with Confluent's compatibility levels and subject naming.
 */
package io.spillway.schemas.registry;
