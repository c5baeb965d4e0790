package io.spillway.app.cli;

import io.spillway.app.replay.ReplayCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code spillway} command line. */
@Command(name = "spillway", mixinStandardHelpOptions = true, versionProvider = SpillwayCli.Version.class,
        description = "Continuous training of sparse spiking RNNs on Kafka event streams.",
        subcommands = {DemoCommand.class, RunCommand.class, StatusCommand.class, ReportCommand.class, ReplayCommand.class,
                FollowCommand.class, ServeCommand.class,
                CommandLine.HelpCommand.class})
public final class SpillwayCli {

    public static void main(final String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int execute(final String... args) {
        return new CommandLine(new SpillwayCli()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    }

    /** The version from the jar's manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            final String v = SpillwayCli.class.getPackage().getImplementationVersion();
            return new String[] {"spillway " + (v == null ? "dev" : v)};
        }
    }
}
