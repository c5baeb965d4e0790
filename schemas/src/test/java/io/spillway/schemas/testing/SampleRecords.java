package io.spillway.schemas.testing;

import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.ModelDelta;
import io.spillway.schemas.avro.ModelSnapshotChunk;
import io.spillway.schemas.avro.Prediction;
import io.spillway.schemas.avro.SparseVector;
import io.spillway.schemas.avro.TrainingMetrics;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;

/** One filled-in instance of every generated record type, with non-default values in every field. */
public final class SampleRecords {
    private SampleRecords() {
    }

    public static SparseVector sparse() {
        return SparseVector.newBuilder().setIndices(List.of(1, 5, 42)).setValues(List.of(0.5f, -1.25f, 3.0f)).build();
    }

    public static Event event() {
        return Event.newBuilder().setEntityId("user-7").setTimestampMs(1_700_000_000_123L).setEventType(3)
            .setFeatures(sparse()).setLabel(2).build();
    }

    public static Event eventWithoutLabel() {
        return Event.newBuilder(event()).setLabel(null).build();
    }

    public static ModelDelta delta() {
        return ModelDelta.newBuilder().setModelId("m1").setInstanceId("i-0").setVersion(12).setBaseVersion(11)
            .setTensor("layer0.w_rec").setTensorSize(4096).setChunkIndex(1).setChunkCount(3).setUpdate(sparse())
            .setCreatedAtMs(99L).build();
    }

    public static ModelSnapshotChunk snapshotChunk() {
        return ModelSnapshotChunk.newBuilder().setModelId("m1").setInstanceId("i-0").setVersion(12)
            .setFormat("spillway-snapshot-v1").setChunkIndex(0).setChunkCount(1).setTotalBytes(4)
            .setSha256("ab".repeat(32)).setPayload(ByteBuffer.wrap(new byte[] {1, 2, 3, (byte) 0xff}))
            .setCreatedAtMs(100L).build();
    }

    public static TrainingMetrics metrics() {
        return TrainingMetrics.newBuilder().setModelId("m1").setInstanceId("i-0").setModelVersion(12)
            .setTimestampMs(5L).setBackend("cpu").setOptimizer("efcp-mfac").setCheckpointSchedule("double(Cr=256,Cl=16)")
            .setBatchEvents(1000).setEventsTrained(50_000).setEventsDeadLettered(3).setLoss(1.25).setAccuracy(0.6)
            .setEventsPerSecond(12_345.5).setQueueDepth(2).setConsumerLag(77L).setPeakDeviceBytes(1L << 30)
            .setOffChipBytes(1L << 31).setTransferBytes(123_456).setRecomputedSteps(800).setRecomputeRatio(0.8)
            .setOptimizerWindowBytes(1 << 20).setDivergedSteps(0).build();
    }

    public static Prediction prediction() {
        return Prediction.newBuilder().setEntityId("user-7").setModelVersion(12).setAfterTimestampMs(7L)
            .setPredictedEventType(4).setProbability(0.75f).setActualEventType(4).build();
    }

    /** @return every top-level record type */
    public static List<SpecificRecord> all() {
        return List.of(event(), eventWithoutLabel(), sparse(), delta(), snapshotChunk(), metrics(), prediction());
    }
}
