package io.spillway.engine;

/**
 * A state that is well formed but was written by a learner or optimizer of another configuration (another
 * model shape, optimizer or dimension): not damage, but a different model. Callers may treat it apart from
 * corruption, e.g. refuse to start over a model they cannot continue.
 */
public class StateMismatchException extends InvalidStateException {
    private static final long serialVersionUID = 1L;

    public StateMismatchException(final String message) {
        super(message);
    }
}
