package io.spillway.app.it;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.app.trainer.SplitTrainerLoop;
import io.spillway.app.trainer.TrainerSettings;
import java.nio.file.Path;

/**
 * A split-training instance as a separate process for {@code SplitCrashIT}. Prints {@code STATUS <events
 * trained> <quiescent>} a few times a second. Arguments: bootstrap servers, registry URL, state directory,
 * application id, instance name.
 */
public final class SplitCrashableApp {
    private SplitCrashableApp() {
    }

    static AppConfig config(final String bootstrap, final String registry, final Path stateDir,
                            final String applicationId, final String instance) {
        final AppConfig base = TestApps.config(bootstrap, registry, stateDir, 8);
        final TrainerSettings t = base.trainer();
        // A short session lets the group hand a killed instance's partitions over within seconds.
        final java.util.Map<String, Object> kafka = new java.util.HashMap<>(base.kafkaOverrides());
        kafka.put("session.timeout.ms", 6_000);
        kafka.put("heartbeat.interval.ms", 1_000);
        return base.toBuilder().applicationId(applicationId).partitions(4)
                .trainer(t.withInstanceId(instance).withScaleOut(ScaleOut.SPLIT, 0.1)).opsPort(-1).kafkaOverrides(kafka)
                .build();
    }

    public static void main(final String[] args) throws Exception {
        final SpillwayApp app = SpillwayApp.start(config(args[0], args[1], Path.of(args[2]), args[3], args[4]));
        Runtime.getRuntime().addShutdownHook(new Thread(app::close, "clean-stop"));
        final SplitTrainerLoop trainer = (SplitTrainerLoop) app.trainer();
        while (true) {
            System.out.println("STATUS " + trainer.eventsTrained() + " " + trainer.quiescent());
            System.out.flush();
            if (trainer.failure() != null) {
                System.out.println("FAILED " + trainer.failure());
            }
            Thread.sleep(50);
        }
    }
}
