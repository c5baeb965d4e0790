/**
 * Spillway's settings, each defined once with its type, default, documentation and validation (after Kafka's
 * {@code ConfigDef}): {@link io.spillway.app.config.AppSettings} lists them, the CLI's options and the table in
 * {@code docs/configuration.md} are generated from that list, and {@link io.spillway.app.config.ParsedSettings} is the
 * typed, validated view a configuration is built from. Parsing and the docs generator live in {@code internals}.
 */
package io.spillway.app.config;
