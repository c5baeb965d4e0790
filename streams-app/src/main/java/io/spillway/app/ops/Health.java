package io.spillway.app.ops;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@code /health} answers: whether the process still does its job (an orchestrator restarts it when not), the
 * state of each part it checked, and why it is down. Immutable.
 *
 * @param up whether the process is live: starting, rebalancing and running all count as live
 * @param components each checked part's state by name, e.g. {@code streams -> RUNNING}
 * @param problems why the process is not live; empty when {@code up}
 */
public record Health(boolean up, Map<String, String> components, List<String> problems) {
    public Health {
        components = Map.copyOf(Objects.requireNonNull(components, "components"));
        problems = List.copyOf(Objects.requireNonNull(problems, "problems"));
        if (up != problems.isEmpty()) {
            throw new IllegalArgumentException("a live process has no problems, a dead one at least one: " + problems);
        }
    }

    /** Live, with nothing checked: for a process without parts that can die on their own. */
    public static Health alive() {
        return new Health(true, Map.of(), List.of());
    }
}
