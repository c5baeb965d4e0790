package io.spillway.engine.memory;

/** Thrown when an allocation would take a tier over its configured budget. */
public final class MemoryBudgetExceededException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MemoryBudgetExceededException(final String message) {
        super(message);
    }
}
