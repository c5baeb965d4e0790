package io.spillway.engine;

import java.io.IOException;

/**
 * A serialized state (a learner's, an optimizer's, a carried key state) that cannot be restored: truncated,
 * a length or index out of range, a non-finite value, fields that disagree. The message names the field and
 * the value found, so that whoever refuses the state can say why. The object that was reading it may be
 * partly overwritten; callers restore into a fresh object or roll back.
 */
public class InvalidStateException extends IOException {
    private static final long serialVersionUID = 1L;

    public InvalidStateException(final String message) {
        super(message);
    }

    public InvalidStateException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
