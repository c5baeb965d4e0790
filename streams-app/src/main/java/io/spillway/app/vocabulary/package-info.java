/**
 * The dictionary vocabulary ({@code type.vocabulary = dictionary}): text categories get exact ids in first-seen
 * order, assigned in the stream task and kept in a compacted, exactly-once changelog, so restarts, crash recovery,
 * followers and serving replicas agree on them; the overflow class once the dictionary is full; and reading the
 * published dictionary back, to put the user's categories beside the ids in predictions. See
 * docs/input-formats.md ("The dictionary vocabulary").
 */
package io.spillway.app.vocabulary;
