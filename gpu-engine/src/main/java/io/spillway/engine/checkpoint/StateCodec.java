package io.spillway.engine.checkpoint;

import java.nio.ByteBuffer;

/**
 * Lossless binary form of a recurrent state for off-chip checkpoint stores. Sparse states (spike index
 * lists) make records small; {@link #maxEncodedBytes()} bounds every record so stores can use
 * fixed-size slots.
 *
 * @param <S> the state type
 */
public interface StateCodec<S> {

    /** Upper bound of {@link #encode} output, in bytes. */
    int maxEncodedBytes();

    /** Writes {@code state} at the buffer's position and advances it; returns the bytes written. */
    int encode(S state, ByteBuffer out);

    /** Reads a state written by {@link #encode} from the buffer's position and advances it. */
    S decode(ByteBuffer in);
}
