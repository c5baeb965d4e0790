package io.spillway.app.topology;

/**
 * Where the topology hands completed chunks: typically a bounded queue read by the trainer thread.
 *
 * <p>Called on a Kafka Streams thread. Implementations may block while the consumer side is full
 * (back-pressure); they must be thread-safe when several stream threads run.
 */
@FunctionalInterface
public interface ChunkHandoff {
    /**
     * Takes ownership of a chunk.
     *
     * @param chunk never null
     * @throws org.apache.kafka.streams.errors.StreamsException if the handoff was interrupted or closed
     */
    void handOff(AssembledChunk chunk);
}
