package io.spillway.app.it.hostile;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.utils.Crc32C;

/**
 * Produces one record with a negative record timestamp, which the Java producer refuses to build
 * ({@code ProducerRecord} and {@code MemoryRecordsBuilder} both reject it) but librdkafka sends and the broker stores
 * (its {@code log.message.timestamp.before.max.ms} is unbounded by default). The record batch is built with a valid
 * timestamp, then its base and max timestamps are overwritten and its CRC recomputed, and it goes to the broker in a
 * plain Produce request on its own connection. For a single-broker test cluster: the bootstrap address is the
 * leader of every partition.
 */
final class RawProducer {
    /** Produce v11: topics by name, no transaction v2; every Kafka 4.x broker serves it. */
    private static final short PRODUCE_VERSION = ProduceRequest.LAST_STABLE_VERSION_BEFORE_TRANSACTION_V2;
    private static final int BASE_TIMESTAMP_OFFSET = 27;
    private static final int MAX_TIMESTAMP_OFFSET = 35;
    private static final int ATTRIBUTES_OFFSET = 21;

    private RawProducer() {
    }

    /**
     * Appends one record to {@code topic}/{@code partition} and waits for the broker's acknowledgement.
     *
     * @return the offset the broker gave the record
     * @throws IOException when the broker cannot be reached or refuses the record (its error named)
     */
    static long produce(final String bootstrap, final String topic, final int partition, final byte[] key,
                        final byte[] value, final Header[] headers, final long timestampMs) throws IOException {
        final ByteBuffer batch = batchWithTimestamp(key, value, headers, timestampMs);
        final ProduceRequestData data = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(30_000)
                .setTopicData(new ProduceRequestData.TopicProduceDataCollection(List.of(
                        new ProduceRequestData.TopicProduceData().setName(topic).setPartitionData(List.of(
                                new ProduceRequestData.PartitionProduceData().setIndex(partition)
                                        .setRecords(MemoryRecords.readableRecords(batch))))).iterator()));
        final RequestHeader header = new RequestHeader(ApiKeys.PRODUCE, PRODUCE_VERSION, "spillway-raw-producer", 1);
        final ByteBuffer request = new ProduceRequest.Builder(PRODUCE_VERSION, PRODUCE_VERSION, data)
                .build(PRODUCE_VERSION).serializeWithHeader(header);
        final String[] hostPort = bootstrap.split(",")[0].split(":");
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), 10_000);
            socket.setSoTimeout(60_000);
            final DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(request.remaining());
            out.write(request.array(), request.arrayOffset() + request.position(), request.remaining());
            out.flush();
            final DataInputStream in = new DataInputStream(socket.getInputStream());
            final byte[] response = new byte[in.readInt()];
            in.readFully(response);
            final ProduceResponse parsed = (ProduceResponse) AbstractResponse.parseResponse(ByteBuffer.wrap(response),
                    header);
            final ProduceResponseData.PartitionProduceResponse result = parsed.data().responses().iterator().next()
                    .partitionResponses().get(0);
            if (result.errorCode() != Errors.NONE.code()) {
                throw new IOException("broker refused the record: " + Errors.forCode(result.errorCode()) + " "
                        + result.errorMessage());
            }
            return result.baseOffset();
        }
    }

    /** One uncompressed v2 batch of one record whose timestamp is {@code timestampMs}, with a valid CRC. */
    static ByteBuffer batchWithTimestamp(final byte[] key, final byte[] value, final Header[] headers,
                                         final long timestampMs) {
        int headerBytes = 0;
        for (final Header h : headers) {
            headerBytes += h.key().length() * 3 + (h.value() == null ? 0 : h.value().length) + 10;
        }
        final MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(
                        256 + (key == null ? 0 : key.length) + (value == null ? 0 : value.length) + headerBytes),
                Compression.NONE, TimestampType.CREATE_TIME, 0L);
        // the record's timestamp delta to the batch's base is 0, so overwriting the base moves the record's time
        builder.append(0L, key, value, headers);
        final ByteBuffer batch = builder.build().buffer();
        batch.putLong(BASE_TIMESTAMP_OFFSET, timestampMs);
        batch.putLong(MAX_TIMESTAMP_OFFSET, timestampMs);
        batch.putInt(DefaultRecordBatch.CRC_OFFSET,
                (int) Crc32C.compute(batch, ATTRIBUTES_OFFSET, batch.limit() - ATTRIBUTES_OFFSET));
        final MutableRecordBatch check = MemoryRecords.readableRecords(batch.duplicate()).batches().iterator().next();
        check.ensureValid();
        if (check.iterator().next().timestamp() != timestampMs) {
            throw new IllegalStateException("patched batch does not carry timestamp " + timestampMs);
        }
        return batch;
    }
}
