package io.spillway.app.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.cli.SpillwayCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ReplayCommandTest {

    private static String capture(final Runnable r, final boolean err) {
        final PrintStream old = err ? System.err : System.out;
        final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        final PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
        if (err) {
            System.setErr(ps);
        } else {
            System.setOut(ps);
        }
        try {
            r.run();
        } finally {
            if (err) {
                System.setErr(old);
            } else {
                System.setOut(old);
            }
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void isASubcommandOfTheCli() {
        final int[] exit = new int[1];
        final String help = capture(() -> exit[0] = SpillwayCli.execute("replay", "--help"), false);
        assertThat(exit[0]).isZero();
        assertThat(help).contains("--dataset", "--rate", "--limit", "--bootstrap-servers", "--schema-registry-url", "--topic");
    }

    @Test
    void unknownDataSetIsAClearError() {
        final int[] exit = new int[1];
        final String err = capture(() -> exit[0] = SpillwayCli.execute("replay", "--dataset", "no-such-set"), true);
        assertThat(exit[0]).isNotZero();
        assertThat(err).contains("unknown data set 'no-such-set'", "linux-doc", "perl-doc");
    }
}
