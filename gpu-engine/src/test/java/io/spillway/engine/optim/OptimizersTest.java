package io.spillway.engine.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class OptimizersTest {

    @Test
    void everyNameBuildsAndSettingsApply() {
        final List<int[]> shapes = List.of(new int[] {10, 10}, new int[] {10, 1});
        for (final String name : List.of("sgd", "adam", "mfac", "mfac-sparse", "mfac-sparse-no-ef", "mfac-lowrank",
                "ggt", "ggt-sparse")) {
            final Optimizer o = Optimizers.create(name, 0.01f, null, shapes);
            o.initialise(110);
            final float[] p = new float[110];
            final float[] g = new float[110];
            g[3] = 1f;
            o.step(p, g);
            assertThat(p[3]).as(name).isNegative();
        }
        final MFac sixteenBit = (MFac) Optimizers.create("mfac-sparse:m=64,lambda=0.3,density=0.01,block=6400,idx=uint16,val=bf16",
                0.1f, null);
        sixteenBit.initialise(64_000);
        assertThat(sixteenBit.describe()).contains("m=64", "lambda=0.3", "block=6400", "UINT16", "BF16");
        assertThat(sixteenBit.windowBytes()).isEqualTo(64L * 640 * (2 + 2));
        final MFac tuned = (MFac) Optimizers.create("mfac-sparse:mu=0.5,clip=1.5,warmup=10", 0.1f, null);
        tuned.initialise(1000);
        assertThat(tuned.describe()).contains("mu=0.5", "clip=1.5", "warmup=10");
        final Optimizer defaults = Optimizers.create("mfac-sparse", Optimizers.defaultLearningRate("mfac-sparse"), null);
        defaults.initialise(1000);
        assertThat(defaults.describe()).contains("lr=0.05", "density=0.05", "k=50", "mu=0.85 nesterov")
                .doesNotContain("clip=", "warmup=");
        assertThat(Optimizers.create("mfac-sparse:mu=0", 0.1f, null).describe()).doesNotContain("mu=");
        assertThat(Optimizers.create("mfac", 0.1f, null).describe()).doesNotContain("mu=");
        assertThat(Optimizers.create("mfac-sparse:mu=0.5,momentum=ema", 0.1f, null).describe()).contains("mu=0.5 ema");
    }

    @Test
    void badNamesAndSettingsFailClearly() {
        assertThatThrownBy(() -> Optimizers.create("lbfgs", 0.1f, null)).hasMessageContaining("expected sgd, adam");
        assertThatThrownBy(() -> Optimizers.create("adam:m=3", 0.1f, null)).hasMessageContaining("does not take [m]");
        assertThatThrownBy(() -> Optimizers.create("mfac:lambda=soft", 0.1f, null)).hasMessageContaining("not a number");
        assertThatThrownBy(() -> Optimizers.create("mfac-sparse:idx=int8", 0.1f, null)).hasMessageContaining("idx must");
        assertThatThrownBy(() -> Optimizers.create("mfac-sparse:warmup=1.5", 0.1f, null))
                .hasMessageContaining("not an integer");
        assertThatThrownBy(() -> Optimizers.create("mfac-sparse:momentum=adam", 0.1f, null))
                .hasMessageContaining("momentum must");
        assertThat(Optimizers.defaultLearningRate("mfac-sparse:m=8")).isEqualTo(0.05f);
        assertThat(Optimizers.defaultLearningRate("mfac")).isEqualTo(0.1f);
    }
}
