package io.spillway.app.topology;

/**
 * Where an input record came from, kept with records that wait (see {@link RegistryWaitQueue}) so that their
 * dead letters and buffered events name their own position, not the record being processed when they resume.
 *
 * @param topic input topic
 * @param partition input partition
 * @param offset input offset, -1 when unknown
 */
record SourcePosition(String topic, int partition, long offset) {
}
