package io.spillway.schemas.registry;

import io.spillway.schemas.registry.internals.SubjectNames;

/** The subject exists but has no live version with that number (Confluent 40402). */
public class UnknownVersionException extends SchemaRegistryException {
    private static final long serialVersionUID = 1L;

    /** Confluent error code for "version not found". */
    public static final int ERROR_CODE = 40402;

    /** @param message which version was not found */
    public UnknownVersionException(final String message) {
        super(message, 404, ERROR_CODE, null);
    }

    /**
     * @param subject the subject
     * @param version the version asked for, as given ("latest" or a number)
     * @return the exception with the standard message
     */
    public static UnknownVersionException of(final String subject, final String version) {
        return new UnknownVersionException("version " + SubjectNames.printable(version) + " of subject " + SubjectNames.printable(subject)
            + " not found");
    }
}
