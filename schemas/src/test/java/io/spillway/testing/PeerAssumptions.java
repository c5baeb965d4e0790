package io.spillway.testing;

import java.util.Map;
import java.util.function.Supplier;
import org.opentest4j.TestAbortedException;

/**
 * How a test that needs an outside peer (a Python client, Prometheus, Chromium, a Debian corpus, PyTorch, ...)
 * says it cannot run: on a developer's machine it is skipped with the reason; under {@code CI=true} it fails with
 * the reason, since CI installs every peer ({@code .ci/run}) and a peer test that skips there passes silently.
 * Shared by the modules' tests (the schemas module's test jar).
 */
public final class PeerAssumptions {
    private PeerAssumptions() {
    }

    /**
     * Skips the test (or, under {@code CI=true}, fails it) unless {@code present}.
     *
     * @param why what is missing and what provides it, e.g. "no prometheus on PATH (Debian package 'prometheus')"
     */
    public static void assumePeer(final boolean present, final String why) {
        assumePeer(present, () -> why, System.getenv());
    }

    /** As {@link #assumePeer(boolean, String)}, the reason computed only when needed. */
    public static void assumePeer(final boolean present, final Supplier<String> why) {
        assumePeer(present, why, System.getenv());
    }

    /** As {@link #assumePeer(boolean, String)}, reading {@code CI} from {@code env}. */
    static void assumePeer(final boolean present, final Supplier<String> why, final Map<String, String> env) {
        if (present) {
            return;
        }
        if (underCi(env)) {
            throw new AssertionError(why.get() + " (CI=true: a peer test must run, not skip; install what it names)");
        }
        throw new TestAbortedException(why.get());
    }

    /** Whether {@code env} says this is a CI run. */
    static boolean underCi(final Map<String, String> env) {
        return "true".equalsIgnoreCase(env.getOrDefault("CI", "").strip());
    }
}
