package io.spillway.app.mapping;

/** A record the mapping cannot read: the field path and why, e.g. {@code field page.id missing}. */
public final class MappingException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String path;

    public MappingException(final String path, final String why) {
        // no stack trace: a property of the record, raised per record (an optional field absent, a flood of bad ones)
        super("field " + path + " " + why, null, false, false);
        this.path = path;
    }

    /** @return the dotted path of the field that could not be read */
    public String path() {
        return path;
    }
}
