package io.spillway.engine.checkpoint;

/** No checkpoint schedule keeps a window within the device-memory budget; raised before training starts. */
public final class ScheduleDoesNotFitException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public ScheduleDoesNotFitException(final String message) {
        super(message);
    }
}
