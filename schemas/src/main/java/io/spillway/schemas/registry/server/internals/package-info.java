/**
 * The registry server's insides: the routes ({@code RegistryApi}), the Jetty handler that bounds
 * request bodies in size, time and memory ({@code RegistryHandler}), JSON error answers and basic
 * auth. Not public API.
 */
package io.spillway.schemas.registry.server.internals;
