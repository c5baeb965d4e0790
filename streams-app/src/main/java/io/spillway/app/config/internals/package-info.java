/** Value parsing and the generator of the configuration table in {@code docs/configuration.md}. Not public API. */
package io.spillway.app.config.internals;
