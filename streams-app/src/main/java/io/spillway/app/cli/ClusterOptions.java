package io.spillway.app.cli;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Where the Kafka cluster and the schema registry are: the two options every command that talks to a cluster takes
 * ({@code run}, {@code serve}, {@code follow}, {@code status}, {@code report}), declared once. {@code demo} starts
 * its own and takes neither.
 */
@CommandLine.Command
final class ClusterOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    private String bootstrapServers;
    private String schemaRegistryUrl;

    @Option(names = "--bootstrap-servers", required = true, paramLabel = "<host:port,...>",
            description = "Kafka bootstrap servers, e.g. localhost:9092.")
    void bootstrapServers(final String value) {
        if (value.isBlank()) {
            throw new CommandLine.ParameterException(command.commandLine(), "--bootstrap-servers must not be empty");
        }
        this.bootstrapServers = value.strip();
    }

    @Option(names = "--schema-registry-url", required = true, paramLabel = "<url>",
            description = "Confluent-compatible schema registry URL, e.g. http://localhost:8081.")
    void schemaRegistryUrl(final String value) {
        final String scheme;
        try {
            scheme = new URI(value.strip()).getScheme();
        } catch (final URISyntaxException e) {
            throw new CommandLine.ParameterException(command.commandLine(), "--schema-registry-url is not a URL: "
                    + value + " (" + e.getReason() + ")");
        }
        if (scheme == null || !Map.of("http", 0, "https", 0).containsKey(scheme.toLowerCase(Locale.ROOT))) {
            throw new CommandLine.ParameterException(command.commandLine(), "--schema-registry-url must be an http or"
                    + " https URL: " + value);
        }
        this.schemaRegistryUrl = value.strip();
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    String schemaRegistryUrl() {
        return schemaRegistryUrl;
    }

    /** The Kafka clients' settings: the --config overrides with these bootstrap servers. */
    Map<String, Object> clientConfig(final Map<String, Object> overrides) {
        final Map<String, Object> client = new HashMap<>(overrides);
        client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return client;
    }
}
