/** HTTP routing, error answers and basic auth of the registry server. Not public API. */
package io.spillway.schemas.registry.server.internals;
