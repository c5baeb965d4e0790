package io.spillway.app.trainer;

import io.spillway.app.ops.TrainingFigures;
import io.spillway.app.topology.Topics;
import io.spillway.engine.Learner;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * What every trainer loop works with, whichever way the training is shared: the learner it trains, where it
 * publishes, and what it reports.
 *
 * @param learner the model being trained; the loop's thread is its only user while the loop runs
 * @param sink where the loop publishes; the split loop needs a transactional one
 * @param figuresListener told every step's figures (e.g. the operations metrics)
 * @param consumerLag records behind the input topic's end, or -1 when unknown, for the metrics records
 * @param deadLettered records dead-lettered so far, for the metrics records
 * @param categories the user's categories of event type ids, put beside the ids in predictions
 */
public record TrainerContext(Learner learner, TrainingSink sink, Topics topics, TrainerSettings settings,
                             Consumer<TrainingFigures> figuresListener, LongSupplier consumerLag,
                             LongSupplier deadLettered, CategoryNames categories) {
    /** Predictions without categories: event types are ids only. */
    public TrainerContext(final Learner learner, final TrainingSink sink, final Topics topics,
                          final TrainerSettings settings, final Consumer<TrainingFigures> figuresListener,
                          final LongSupplier consumerLag, final LongSupplier deadLettered) {
        this(learner, sink, topics, settings, figuresListener, consumerLag, deadLettered, CategoryNames.NONE);
    }

    public TrainerContext {
        Objects.requireNonNull(categories, "categories");
        Objects.requireNonNull(learner, "learner");
        Objects.requireNonNull(sink, "sink");
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(figuresListener, "figuresListener");
        Objects.requireNonNull(consumerLag, "consumerLag");
        Objects.requireNonNull(deadLettered, "deadLettered");
    }

    /** The publisher of this context's steps. */
    StepPublisher publisher() {
        return new StepPublisher(learner, sink, topics, settings, consumerLag, deadLettered, categories);
    }
}
