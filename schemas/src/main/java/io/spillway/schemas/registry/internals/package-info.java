/**
 * Implementation of the registry: the shared store and rules ({@code SchemaStore}, with its
 * append-only log), Avro compatibility checks, the mock and REST clients. Not public API.
 */
package io.spillway.schemas.registry.internals;
