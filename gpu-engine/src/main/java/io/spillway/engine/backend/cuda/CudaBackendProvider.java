package io.spillway.engine.backend.cuda;

import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.backend.BackendProvider;
import io.spillway.engine.backend.cuda.internals.CudaArrayBackend;
import io.spillway.engine.memory.MemoryAccountant;
import java.util.Objects;

/**
 * Provides the CUDA backend as {@code cuda}, preferred over the CPU: opening it loads the CUDA libraries and
 * GPU 0, and fails with the missing library, symbol or device when there is none.
 */
public final class CudaBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int preference() {
        return 100;
    }

    @Override
    public ArrayBackend open(final MemoryAccountant accountant) {
        return CudaArrayBackend.open(Objects.requireNonNull(accountant, "accountant"));
    }
}
