package io.spillway.engine.model.egru;

/**
 * What the backward pass of step {@code t} needs: the states before and after it (cell states and event ids;
 * shared with the states, immutable) and the gate values {@code u, r, g} and the recurrent candidate term
 * {@code q} of every population, {@code layers * batch * hidden} each. The inputs are re-read from the window.
 */
public final class EgruTape {
    final int step;
    final EgruState previous;
    final EgruState next;
    final float[] update;
    final float[] reset;
    final float[] candidate;
    final float[] recurrentCandidate;

    EgruTape(final int step, final EgruState previous, final EgruState next, final float[] update,
             final float[] reset, final float[] candidate, final float[] recurrentCandidate) {
        this.step = step;
        this.previous = previous;
        this.next = next;
        this.update = update;
        this.reset = reset;
        this.candidate = candidate;
        this.recurrentCandidate = recurrentCandidate;
    }

    /** Index of the step this tape belongs to. */
    public int step() {
        return step;
    }

    /** Heap bytes held beyond the states: the four gate arrays; plus both states' event ids and the new cells. */
    public long bytes() {
        return 16L * update.length + 4L * next.rawCell().length + 4L * previous.eventCount() + 4L * next.eventCount();
    }
}
