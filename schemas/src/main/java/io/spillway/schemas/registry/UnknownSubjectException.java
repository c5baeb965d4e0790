package io.spillway.schemas.registry;

import io.spillway.schemas.registry.internals.SubjectNames;

/** The subject has no live (not deleted) version (Confluent 40401). */
public class UnknownSubjectException extends SchemaRegistryException {
    private static final long serialVersionUID = 1L;

    /** Confluent error code for "subject not found". */
    public static final int ERROR_CODE = 40401;

    /** @param message which subject was not found */
    public UnknownSubjectException(final String message) {
        super(message, 404, ERROR_CODE, null);
    }

    /** @param subject the subject that was not found @return the exception with the standard message */
    public static UnknownSubjectException of(final String subject) {
        return new UnknownSubjectException("subject " + SubjectNames.printable(subject) + " not found");
    }
}
