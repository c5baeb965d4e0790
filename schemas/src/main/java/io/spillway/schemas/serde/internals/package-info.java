/** Wire-format constants, serde settings and Avro class-trust set-up behind the serdes. Not public API. */
package io.spillway.schemas.serde.internals;
