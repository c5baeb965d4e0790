/** Jetty plumbing of the operations endpoint (the request-head deadline). Not public API. */
package io.spillway.app.ops.internals;
