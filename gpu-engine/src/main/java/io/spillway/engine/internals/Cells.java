package io.spillway.engine.internals;

import io.spillway.engine.LearnerConfig;
import io.spillway.engine.model.Cell;
import io.spillway.engine.model.egru.EgruCell;
import io.spillway.engine.model.egru.EgruSettings;
import io.spillway.engine.model.lif.LifCell;
import io.spillway.engine.model.lif.LifSettings;

/** The {@link Cell} a {@link LearnerConfig} names, with the config's constants. */
public final class Cells {

    private Cells() {
    }

    public static Cell<?> of(final LearnerConfig config) {
        return switch (config.cell()) {
            case LifCell.NAME -> new LifCell(new LifSettings(config.vocabularySize(), config.featureDimension(),
                    config.hiddenSize(), config.layers(), config.alpha(), config.gain(), 1f, config.surrogateBeta(),
                    config.theta2(), config.spikeCapacity(), config.adaptation(), config.adaptationDecay()));
            case EgruCell.NAME -> new EgruCell(new EgruSettings(config.vocabularySize(), config.featureDimension(),
                    config.hiddenSize(), config.layers(), config.thresholdMean(), config.pseudoDerivativeScale(),
                    config.activityTarget(), config.activityRegularization(), config.candidateBias(),
                    config.readout().equals("events") ? EgruSettings.Readout.EVENTS : EgruSettings.Readout.CELL,
                    config.learnThresholds()));
            default -> throw new IllegalArgumentException("unknown cell '" + config.cell() + "'");
        };
    }
}
