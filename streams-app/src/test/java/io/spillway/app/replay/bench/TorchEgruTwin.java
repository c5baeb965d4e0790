package io.spillway.app.replay.bench;

import io.spillway.engine.LearnerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The command-line settings of the PyTorch twin of Spillway's EGRU ({@code bench/realdata_torch.py --model egru})
 * for a learner's configuration: the cell's shape and constants, the learning rate and the gradient clip. The
 * initial parameters (thresholds and candidate bias included) travel in the parameter file instead.
 */
final class TorchEgruTwin {
    private TorchEgruTwin() {
    }

    /**
     * The twin's arguments after {@code --model egru}, without the schedule, parameters and threads.
     *
     * @throws IllegalArgumentException naming what the twin does not reproduce (another cell, sparse features, an
     *     optimizer other than Adam with its default betas and epsilon, with or without a decay)
     */
    static List<String> arguments(final LearnerConfig config) {
        if (!config.cell().equals("egru")) {
            throw new IllegalArgumentException("the twin is of the EGRU cell, this learner's is " + config.cell());
        }
        if (config.featureDimension() != 0) {
            throw new IllegalArgumentException("the twin's schedule holds event types only, the learner has "
                    + config.featureDimension() + " features");
        }
        if (config.hiddenSize() > io.spillway.engine.model.egru.EgruCell.REFERENCE_WIDTH) {
            throw new IllegalArgumentException("the twin takes one learning rate for every tensor, the learner scales"
                    + " the rates of its matrices from hidden units above hidden "
                    + io.spillway.engine.model.egru.EgruCell.REFERENCE_WIDTH + " (this one has "
                    + config.hiddenSize() + ")");
        }
        final String optimizer = config.optimizer().strip().toLowerCase(Locale.ROOT);
        final java.util.regex.Matcher adam = java.util.regex.Pattern.compile("adam(?::decay=([0-9.]+))?")
                .matcher(optimizer);
        if (!adam.matches()) {
            throw new IllegalArgumentException("the twin reproduces Spillway's Adam with its default betas and "
                    + "epsilon (and a decay), this learner's optimizer is " + config.optimizer());
        }
        final List<String> args = new ArrayList<>(List.of("--hidden", String.valueOf(config.hiddenSize()),
                "--layers", String.valueOf(config.layers()), "--lr", Float.toString(config.learningRate()),
                "--clip", Float.toString(config.gradientClip()),
                "--kappa", Float.toString(config.pseudoDerivativeScale()),
                "--activity-target", Float.toString(config.activityTarget()),
                "--activity-lambda", Float.toString(config.activityRegularization()),
                "--readout", config.readout()));
        if (adam.group(1) != null) {
            args.addAll(List.of("--decay", adam.group(1)));
        }
        if (config.learnThresholds()) {
            args.add("--learn-thresholds");
        }
        return List.copyOf(args);
    }
}
