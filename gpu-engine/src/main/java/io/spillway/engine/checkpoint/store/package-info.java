/**
 * Off-chip checkpoint stores: fixed-size slots used as a ring, in off-heap host memory or in a memory-mapped
 * file with 4 KiB-aligned slots. Stores own their memory and free it on close.
 */
package io.spillway.engine.checkpoint.store;
