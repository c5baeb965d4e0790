package io.spillway.engine.backend.cuda.internals;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The {@code void** kernelParams} of one launch: each argument's value in native memory and an array of
 * pointers to them, in the kernel's parameter order. Lives in the caller's arena.
 */
public final class LaunchArgs {
    private final Arena arena;
    private final MemorySegment pointers;
    private int count;

    public LaunchArgs(final Arena arena, final int capacity) {
        this.arena = arena;
        this.pointers = arena.allocate(ADDRESS, capacity);
    }

    /** A device pointer argument; 0 passes {@code nullptr}. */
    public LaunchArgs pointer(final long devicePointer) {
        return add(arena.allocateFrom(JAVA_LONG, devicePointer));
    }

    public LaunchArgs i32(final int value) {
        return add(arena.allocateFrom(JAVA_INT, value));
    }

    public LaunchArgs i64(final long value) {
        return add(arena.allocateFrom(JAVA_LONG, value));
    }

    public LaunchArgs f32(final float value) {
        return add(arena.allocateFrom(JAVA_FLOAT, value));
    }

    public LaunchArgs f64(final double value) {
        return add(arena.allocateFrom(JAVA_DOUBLE, value));
    }

    private LaunchArgs add(final MemorySegment value) {
        pointers.setAtIndex(ADDRESS, count++, value);
        return this;
    }

    public MemorySegment segment() {
        return pointers;
    }
}
