package io.spillway.engine.internals;

import io.spillway.engine.InvalidStateException;
import java.io.DataInput;
import java.io.IOException;

/**
 * Checks for decoding serialized states that may be damaged or hostile: every length is bounded before
 * anything is allocated for it, every index is range-checked and every value must be finite. Failures are
 * {@link InvalidStateException}s whose message names the field ({@code what}) and the value found.
 * Bounds come from the configuration of the object being restored (its dimension, window, vocabulary), never
 * from the state itself.
 */
public final class StateChecks {
    private static final int QUOTE_LIMIT = 64;
    private StateChecks() {
    }

    /** Reads a length in {@code [0, max]}, before anything is allocated for it. */
    public static int readLength(final DataInput in, final int max, final String what) throws IOException {
        final int n = in.readInt();
        if (n < 0 || n > max) {
            throw new InvalidStateException(what + " is " + n + ", outside [0, " + max + "]");
        }
        return n;
    }

    /** Reads an int that must equal {@code expected} (a count fixed by the configuration). */
    public static int readExactly(final DataInput in, final int expected, final String what) throws IOException {
        final int n = in.readInt();
        if (n != expected) {
            throw new InvalidStateException(what + " is " + n + ", expected " + expected);
        }
        return n;
    }

    /** Reads an index in {@code [0, bound)}. */
    public static int readIndex(final DataInput in, final int bound, final String what) throws IOException {
        return requireIndex(in.readInt(), bound, what);
    }

    /** Returns {@code i} if it lies in {@code [0, bound)}. */
    public static int requireIndex(final int i, final int bound, final String what) throws InvalidStateException {
        if (i < 0 || i >= bound) {
            throw new InvalidStateException(what + " is " + i + ", outside [0, " + bound + ")");
        }
        return i;
    }

    /** Reads a count or counter that must not be negative. */
    public static long readNonNegative(final DataInput in, final String what) throws IOException {
        final long n = in.readLong();
        if (n < 0) {
            throw new InvalidStateException(what + " is negative: " + n);
        }
        return n;
    }

    /** Reads a finite fp32 value. */
    public static float readFinite(final DataInput in, final String what) throws IOException {
        final float v = in.readFloat();
        if (!Float.isFinite(v)) {
            throw new InvalidStateException(what + " is not finite: " + v);
        }
        return v;
    }

    /** Reads a finite fp64 value. */
    public static double readFiniteDouble(final DataInput in, final String what) throws IOException {
        final double v = in.readDouble();
        if (!Double.isFinite(v)) {
            throw new InvalidStateException(what + " is not finite: " + v);
        }
        return v;
    }

    /** Fills {@code into[from, from + n)} with finite fp32 values; the message names the first bad index. */
    public static void readFinite(final DataInput in, final float[] into, final int from, final int n,
                                  final String what) throws IOException {
        for (int i = 0; i < n; i++) {
            final float v = in.readFloat();
            if (!Float.isFinite(v)) {
                throw new InvalidStateException(what + "[" + i + "] is not finite: " + v);
            }
            into[from + i] = v;
        }
    }

    /** Fills {@code into} with finite fp64 values; the message names the first bad index. */
    public static void readFinite(final DataInput in, final double[] into, final String what) throws IOException {
        for (int i = 0; i < into.length; i++) {
            final double v = in.readDouble();
            if (!Double.isFinite(v)) {
                throw new InvalidStateException(what + "[" + i + "] is not finite: " + v);
            }
            into[i] = v;
        }
    }

    /** Requires every value of {@code a[from, from + n)} to be finite. */
    public static void requireFinite(final float[] a, final int from, final int n, final String what)
            throws InvalidStateException {
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(a[from + i])) {
                throw new InvalidStateException(what + "[" + i + "] is not finite: " + a[from + i]);
            }
        }
    }

    /** Requires every value of {@code a} to be finite. */
    public static void requireFinite(final float[] a, final String what) throws InvalidStateException {
        requireFinite(a, 0, a.length, what);
    }

    /** Requires {@code indices} to be strictly increasing in {@code [0, bound)}. */
    public static void requireIncreasing(final int[] indices, final int n, final int bound, final String what)
            throws InvalidStateException {
        int last = -1;
        for (int i = 0; i < n; i++) {
            if (indices[i] <= last || indices[i] >= bound) {
                throw new InvalidStateException(what + " " + indices[i] + " at position " + i + " is not strictly "
                        + "increasing in [0, " + bound + ")" + (i > 0 ? " (after " + last + ")" : ""));
            }
            last = indices[i];
        }
    }

    /** Reads a boolean written by {@code writeBoolean}: a byte that is 0 or 1, nothing else. */
    public static boolean readFlag(final DataInput in, final String what) throws IOException {
        final byte b = in.readByte();
        if (b != 0 && b != 1) {
            throw new InvalidStateException(what + " is " + b + ", not 0 or 1");
        }
        return b == 1;
    }

    /** {@code s} quoted for a message, cut to its first 64 characters, with control characters escaped. */
    public static String quote(final String s) {
        final StringBuilder b = new StringBuilder("'");
        for (int i = 0; i < Math.min(s.length(), QUOTE_LIMIT); i++) {
            final char c = s.charAt(i);
            if (Character.isISOControl(c)) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append(s.length() > QUOTE_LIMIT ? "...' (" + s.length() + " characters)" : "'").toString();
    }
}
