package io.spillway.app.trainer;

/**
 * The user's categories of event type ids (a dictionary vocabulary), put beside the ids in predictions. Asked once
 * per step for all of the step's ids, so a source that must read on for ids it lacks does so at most once a step.
 */
@FunctionalInterface
public interface CategoryNames {
    /** No categories: predictions carry ids only. */
    CategoryNames NONE = ids -> new String[ids.length];

    /** @return the category of each id, null where it has none (no dictionary, the overflow class, not given yet) */
    String[] of(int[] ids);
}
