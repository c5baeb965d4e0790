package io.spillway.app.serving;

/**
 * Limits of the HTTP prediction API.
 *
 * @param maxBodyBytes largest request body (413 above)
 * @param maxEvents most events in one {@code POST /v1/predict} (413 above)
 */
public record HttpLimits(int maxBodyBytes, int maxEvents) {
    public static final HttpLimits DEFAULT = new HttpLimits(64 * 1024, 256);

    public HttpLimits {
        if (maxBodyBytes < 1 || maxEvents < 1) {
            throw new IllegalArgumentException("limits must be positive: " + maxBodyBytes + " bytes, " + maxEvents
                    + " events");
        }
    }
}
