package io.spillway.app.cli;

import io.spillway.app.AppConfig;
import io.spillway.app.config.AppSettings;
import io.spillway.app.config.ParsedSettings;
import io.spillway.app.config.Setting;
import io.spillway.app.config.SettingException;
import io.spillway.app.config.SettingType;
import io.spillway.app.mapping.FieldMapping;
import io.spillway.app.ops.OpsAuth;
import io.spillway.app.ops.OpsServer;
import io.spillway.app.topology.ValueFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Spec;

/**
 * Options shared by the commands that train or load the model: one per {@link AppSettings} definition, added to the
 * command by {@link Install} (name, help text, default and validation all come from the definition).
 * (The empty {@code @Command} makes it a mixin picocli accepts; the options themselves are added by {@link Install}.)
 */
@CommandLine.Command
final class AppOptions {
    /** The key in --config of the operations endpoint's token (kept out of the Kafka settings). */
    static final String OPS_TOKEN_KEY = "spillway.ops.auth.token";

    /** The values given on the command line, parsed and checked; the others take their defaults. */
    private final Map<Setting<?>, Object> given = new LinkedHashMap<>();

    /** The command this mixin belongs to (null when built without picocli), for errors that print its usage. */
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /**
     * Adds an option for every setting to a command with an {@code @Mixin AppOptions}: put it in the command's
     * {@code @Command(modelTransformer = AppOptions.Install.class)}.
     */
    static final class Install implements CommandLine.IModelTransformer {
        @Override
        public CommandSpec transform(final CommandSpec spec) {
            for (final CommandSpec mixin : spec.mixins().values()) {
                if (mixin.userObject() instanceof AppOptions options) {
                    for (final Setting<?> s : AppSettings.DEFINITION.settings()) {
                        spec.addOption(options.option(s));
                    }
                }
            }
            return spec;
        }
    }

    /** The option of one setting, storing its parsed value here. */
    private <T> OptionSpec option(final Setting<T> s) {
        final boolean flag = s.type() == SettingType.BOOLEAN;
        final OptionSpec.Builder b = OptionSpec.builder(s.option()).type(s.type().javaType())
                .paramLabel("<" + camelCase(s.name()) + ">").description(help(s))
                .converters(text -> {
                    try {
                        return s.parse(text);
                    } catch (final SettingException e) {
                        throw new CommandLine.TypeConversionException(e.reason());
                    }
                })
                .setter(new CommandLine.Model.ISetter() {
                    @Override
                    public <V> V set(final V value) {
                        @SuppressWarnings("unchecked") final V old = (V) (value == null ? given.remove(s)
                                : given.put(s, value));
                        return old;
                    }
                })
                .getter(new CommandLine.Model.IGetter() {
                    @Override
                    @SuppressWarnings("unchecked")
                    public <V> V get() {
                        return (V) given.get(s);
                    }
                });
        if (flag) {
            // --flag alone means true; --flag=false lets a script or an environment variable say no
            b.arity("0..1").fallbackValue("true");
        }
        return b.build();
    }

    /**
     * The definition's documentation, default and allowed values, as the option's help (a list of words and true or
     * false go without saying: the documentation names the words, a flag is a flag).
     */
    static String help(final Setting<?> s) {
        final boolean obvious = s.type().choices() || s.type() == SettingType.BOOLEAN || s.validValues().isEmpty();
        return s.documentation() + " (default: " + s.defaultDescription() + (obvious ? "" : "; " + s.validValues())
                + ").";
    }

    private static String camelCase(final String name) {
        final StringBuilder out = new StringBuilder();
        boolean upper = false;
        for (final char c : name.toCharArray()) {
            if (c == '-') {
                upper = true;
            } else {
                out.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return out.toString();
    }

    /** The settings as given on the command line (or set since), with the defaults of the others. */
    ParsedSettings settings() {
        return AppSettings.DEFINITION.of(given);
    }

    /** Sets a value as if it had been given (the demo puts its state under its data folder). */
    <T> void set(final Setting<T> setting, final T value) {
        given.put(setting, setting.check(value));
    }

    AppConfig toConfig(final String bootstrapServers, final String registryUrl) {
        final Map<String, Object> kafka = new HashMap<>();
        final Map<String, Object> registry = new HashMap<>();
        final Properties p = configProperties();
        String opsToken = null;
        for (final String key : p.stringPropertyNames()) {
            if (key.equals(OPS_TOKEN_KEY)) {
                opsToken = p.getProperty(key).strip();
            } else if (key.startsWith("schema.registry.") || key.startsWith("basic.auth.")) {
                registry.put(key, p.getProperty(key));
            } else {
                kafka.put(key, p.getProperty(key));
            }
        }
        final OpsAuth auth = opsAuth(opsToken);
        checkOpsExposure(auth);
        final ParsedSettings s = settings();
        final FieldMapping mapping = mapping(s);
        try {
            return AppSettings.configure(s).bootstrapServers(bootstrapServers).schemaRegistryUrl(registryUrl)
                    .kafkaOverrides(kafka).registryOverrides(registry).opsAuth(auth)
                    .formats(AppSettings.formats(s, mapping)).build();
        } catch (final IllegalArgumentException e) {
            throw usageError(e.getMessage(), e);
        }
    }

    /** The mapping file, read and checked (a bad one stops the start with its problem). */
    private FieldMapping mapping(final ParsedSettings s) {
        final Path file = s.get(AppSettings.MAPPING);
        if (file == null) {
            return null;
        }
        if (s.get(AppSettings.VALUE_FORMAT) == ValueFormat.EVENT) {
            throw usageError("--mapping reads the input's own records: use --value-format auto, avro or json, not event",
                    null);
        }
        try {
            return FieldMapping.load(file);
        } catch (final IOException e) {
            throw usageError("cannot read --mapping " + file + ": " + e.getMessage(), e);
        } catch (final IllegalArgumentException e) {
            throw usageError(e.getMessage(), e);
        }
    }

    /** The operations endpoint's authentication from --ops-auth-token-file, the --config token or the open choice. */
    private OpsAuth opsAuth(final String configToken) {
        final Path tokenFile = settings().get(AppSettings.OPS_AUTH_TOKEN_FILE);
        final boolean open = settings().get(AppSettings.OPS_ALLOW_UNAUTHENTICATED);
        if (tokenFile != null && configToken != null) {
            throw usageError("the operations endpoint's token is given twice: by --ops-auth-token-file and by "
                    + OPS_TOKEN_KEY + " in --config; keep one", null);
        }
        if ((tokenFile != null || configToken != null) && open) {
            throw usageError("--ops-allow-unauthenticated contradicts the operations endpoint's token", null);
        }
        try {
            if (tokenFile != null) {
                return OpsAuth.tokenFile(tokenFile);
            }
            if (configToken != null) {
                return OpsAuth.token(configToken);
            }
        } catch (final IOException e) {
            throw usageError("cannot read --ops-auth-token-file " + tokenFile + ": " + e.getMessage(), e);
        } catch (final IllegalArgumentException e) {
            throw usageError((tokenFile != null ? "--ops-auth-token-file " : OPS_TOKEN_KEY + " in --config: ")
                    + e.getMessage(), e);
        }
        return open ? OpsAuth.unauthenticatedAllowed() : OpsAuth.none();
    }

    /** A usage error of the command (exit code 2, no stack trace), or an IllegalArgumentException outside picocli. */
    private RuntimeException usageError(final String message, final Throwable cause) {
        return command == null ? new IllegalArgumentException(message, cause)
                : new CommandLine.ParameterException(command.commandLine(), message, cause);
    }

    /**
     * Fails (as a usage error) when the operations endpoint would listen beyond loopback without authentication and
     * an open endpoint was not chosen: call it before starting anything.
     */
    void checkOpsExposure() {
        final String token = configProperties().getProperty(OPS_TOKEN_KEY);
        checkOpsExposure(opsAuth(token == null ? null : token.strip()));
    }

    private void checkOpsExposure(final OpsAuth auth) {
        if (settings().get(AppSettings.OPS_PORT) < 0) {
            return;
        }
        try {
            OpsServer.checkExposure(settings().get(AppSettings.OPS_HOST), auth);
        } catch (final IllegalStateException e) {
            throw usageError(e.getMessage(), e);
        }
    }

    /** The --config file's properties (none without one). */
    private Properties configProperties() {
        final Properties p = new Properties();
        final Path configFile = settings().get(AppSettings.CONFIG);
        if (configFile != null) {
            try (InputStream in = Files.newInputStream(configFile)) {
                p.load(in);
            } catch (final IOException e) {
                throw new UncheckedIOException("cannot read --config " + configFile + ": " + e.getMessage(), e);
            }
        }
        return p;
    }
}
