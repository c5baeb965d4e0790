package io.spillway.app.config;

/** A setting's value that does not parse or is not allowed; the message names the setting and what it allows. */
public final class SettingException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String setting;
    private final String reason;

    public SettingException(final String setting, final String reason, final Throwable cause) {
        super("--" + setting + ": " + reason, cause);
        this.setting = setting;
        this.reason = reason;
    }

    /** The setting's name (its option without the dashes). */
    public String setting() {
        return setting;
    }

    /** What is wrong and what is allowed, without the setting's name (the CLI prefixes the option itself). */
    public String reason() {
        return reason;
    }
}
