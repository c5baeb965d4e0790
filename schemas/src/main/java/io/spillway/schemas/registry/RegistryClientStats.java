package io.spillway.schemas.registry;

/**
 * Counters of one {@link SchemaRegistryClient} since it was created, for an application to export as
 * metrics. A snapshot: each call of {@link SchemaRegistryClient#stats()} returns a new one.
 *
 * @param requests HTTP requests sent (each retry counts)
 * @param retries requests that repeated a failed one within the same call
 * @param unavailable calls that ended with {@link SchemaRegistryUnavailableException}: registry unreachable,
 *     timing out or answering 5xx (transient)
 * @param notFound calls the registry answered "not found" (unknown schema id, subject or version)
 * @param errors calls that failed otherwise: refused credentials, rejected schemas, malformed answers
 * @param missingIdCacheHits lookups of a schema id answered from the cache of ids the registry recently
 *     said it does not know, without a request
 */
public record RegistryClientStats(long requests, long retries, long unavailable, long notFound, long errors,
                                  long missingIdCacheHits) {
    /** All zero: a client that makes no requests (such as the {@code mock://} one). */
    public static final RegistryClientStats NONE = new RegistryClientStats(0, 0, 0, 0, 0, 0);
}
