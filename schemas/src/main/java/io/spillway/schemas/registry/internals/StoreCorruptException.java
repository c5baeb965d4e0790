package io.spillway.schemas.registry.internals;

import java.io.IOException;
import java.nio.file.Path;

/** A schema store file holds a line that cannot be trusted; the message names {@code file:line} and why. */
public final class StoreCorruptException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final int line;

    /**
     * @param file the store file
     * @param line the 1-based line number of the bad line
     * @param reason what is wrong with it
     */
    public StoreCorruptException(final Path file, final int line, final String reason) {
        super("corrupt schema store " + file + ":" + line + ": " + reason);
        this.file = file;
        this.line = line;
    }

    /** @return the store file */
    public Path file() {
        return file;
    }

    /** @return the 1-based number of the bad line */
    public int line() {
        return line;
    }
}
