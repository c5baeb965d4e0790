"""Confluent's own Python client as an independent peer of Spillway (interop test).

Uses Debian's python3-confluent-kafka legacy Avro API (CachedSchemaRegistryClient + MessageSerializer,
which need python3-avro) against Spillway's schema registry and a real broker:

  confluent_peer.py produce BOOTSTRAP REGISTRY TOPIC COUNT KEYS
      registers the Event schema and produces COUNT Avro events (key = entity id as UTF-8 text)
  confluent_peer.py consume BOOTSTRAP REGISTRY TOPIC COUNT TIMEOUT_S
      reads up to COUNT records from the start of TOPIC and prints each decoded value as a JSON line
  confluent_peer.py avro-produce BOOTSTRAP REGISTRY TOPIC COUNT KEYS
      the same events through the legacy AvroProducer, which always writes Avro keys (a "string" key schema)
  confluent_peer.py avro-consume BOOTSTRAP REGISTRY TOPIC COUNT TIMEOUT_S
      reads through the legacy AvroConsumer, which decodes every key and value as Avro; prints {"key", "value"}
  confluent_peer.py deserializing-consume BOOTSTRAP REGISTRY TOPIC COUNT TIMEOUT_S
      reads through the current DeserializingConsumer with a StringDeserializer for keys (as a client that reads
      the app's default text keys would) and the legacy MessageSerializer for the Confluent-framed Avro values (the
      current AvroDeserializer needs fastavro, which Debian lacks); prints {"key", "value"}
  confluent_peer.py click-produce BOOTSTRAP REGISTRY TOPIC COUNT USERS EVOLVE_AT BAD [FROM [EXTRA_PAGES [PARTITIONS [ONLY]]]]
      a clickstream of the test's own schema (not Spillway's) through the legacy AvroProducer (Avro string keys):
      from record EVOLVE_AT on, a second schema version with a new optional field; then BAD records of a third
      version without the page field. FROM: the clicks continue the stream from click FROM (later times);
      EXTRA_PAGES: that many pages /promo-0, /promo-1, ... beside the six usual ones; PARTITIONS: user-u's clicks
      go to partition u % PARTITIONS (0: the producer's partitioner); ONLY: just the clicks of that partition's
      users (-1: all); prints how many it produced
  confluent_peer.py json-produce BOOTSTRAP TOPIC COUNT USERS BAD
      the same clickstream as plain JSON values with UTF-8 text keys, ISO-8601 times, and BAD records whose time
      is not a time

Run with the system interpreter (/usr/bin/python3), where Debian installs the packages.
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.avro import CachedSchemaRegistryClient, loads
from confluent_kafka.avro.serializer.message_serializer import MessageSerializer

EVENT_SCHEMA = loads(json.dumps({
    "type": "record", "name": "Event", "namespace": "io.spillway.schemas.avro",
    "fields": [
        {"name": "entityId", "type": "string"},
        {"name": "timestampMs", "type": "long"},
        {"name": "eventType", "type": "int"},
        {"name": "features", "type": {
            "type": "record", "name": "SparseVector", "fields": [
                {"name": "indices", "type": {"type": "array", "items": "int"}},
                {"name": "values", "type": {"type": "array", "items": "float"}}]}},
        {"name": "label", "type": ["null", "int"], "default": None},
    ]}))


MOTIF = [3, 1, 4, 1, 5, 2, 6]


def event_at(i, keys):
    k = i % keys
    step = i // keys
    return {
        "entityId": "py-%d" % k,
        "timestampMs": 1_700_000_000_000 + step,
        "eventType": MOTIF[(step + k) % len(MOTIF)],
        "features": {"indices": [k % 8, 8 + step % 8], "values": [1.0, 0.5]},
        "label": None,
    }


PAGES = ["/home", "/search", "/product", "/cart", "/checkout", "/help"]
CLICK_V1 = {
    "type": "record", "name": "Click", "namespace": "shop.clicks",
    "fields": [
        {"name": "user", "type": "string"},
        {"name": "page", "type": "string"},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "dwellSeconds", "type": "double"},
    ]}
CLICK_V2 = dict(CLICK_V1, fields=CLICK_V1["fields"] + [
    {"name": "referrer", "type": ["null", "string"], "default": None}])
CLICK_V3 = dict(CLICK_V2, fields=[f for f in CLICK_V2["fields"] if f["name"] != "page"])


def click_at(i, users, extra_pages=0):
    u = i % users
    step = i // users
    pages = PAGES + ["/promo-%d" % k for k in range(extra_pages)]
    return {
        "user": "user-%d" % u,
        "page": pages[(step * (u + 1)) % len(pages)],
        "at": 1_767_225_600_000 + 1000 * step,
        "dwellSeconds": 0.5 + (step % 7) * 0.25,
    }


def click_produce(bootstrap, registry, topic, count, users, evolve_at, bad, start=0, extra_pages=0, partitions=0,
                  only=-1):
    from confluent_kafka.avro import AvroProducer
    producer = AvroProducer({"bootstrap.servers": bootstrap, "schema.registry.url": registry, "acks": "all"},
                            default_key_schema=loads('"string"'))
    v1, v2, v3 = (loads(json.dumps(s)) for s in (CLICK_V1, CLICK_V2, CLICK_V3))
    import datetime
    produced = 0
    for i in range(count + bad):
        click = click_at(start + i, users, extra_pages)
        partition = (start + i) % users % partitions if partitions > 0 else -1
        if only >= 0 and partition != only:
            continue
        # python3-avro writes a timestamp-millis field from a datetime
        click["at"] = datetime.datetime.fromtimestamp(click["at"] / 1000, tz=datetime.timezone.utc)
        if i < evolve_at:
            schema = v1
        elif i < count:
            schema = v2
            click["referrer"] = "search" if i % 2 else None
        else:
            schema = v3
            click.pop("page")
            click["referrer"] = None
        if partition >= 0:
            producer.produce(topic=topic, key=click["user"], value=click, value_schema=schema, partition=partition)
        else:
            producer.produce(topic=topic, key=click["user"], value=click, value_schema=schema)
        produced += 1
        if i % 500 == 0:
            producer.poll(0)
    remaining = producer.flush(30)
    if remaining:
        raise SystemExit("%d clicks were not delivered" % remaining)
    print(json.dumps({"produced": produced}))


def json_produce(bootstrap, topic, count, users, bad):
    import datetime
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i in range(count + bad):
        click = click_at(i, users)
        at = datetime.datetime.fromtimestamp(click["at"] / 1000, tz=datetime.timezone.utc)
        click["at"] = at.isoformat().replace("+00:00", "Z") if i < count else "not a time"
        producer.produce(topic, key=click["user"].encode("utf-8"), value=json.dumps(click).encode("utf-8"))
        if i % 500 == 0:
            producer.poll(0)
    remaining = producer.flush(30)
    if remaining:
        raise SystemExit("%d clicks were not delivered" % remaining)
    print(json.dumps({"produced": count + bad}))


def avro_produce(bootstrap, registry, topic, count, keys):
    from confluent_kafka.avro import AvroProducer
    producer = AvroProducer({"bootstrap.servers": bootstrap, "schema.registry.url": registry, "acks": "all"},
                            default_key_schema=loads('"string"'), default_value_schema=EVENT_SCHEMA)
    for i in range(count):
        event = event_at(i, keys)
        producer.produce(topic=topic, key=event["entityId"], value=event)
        if i % 1000 == 0:
            producer.poll(0)
    remaining = producer.flush(30)
    if remaining:
        raise SystemExit("%d events were not delivered" % remaining)
    print(json.dumps({"produced": count}))


def print_records(consumer, topic, count, timeout_s, shown):
    """Reads up to COUNT records of TOPIC from the start, printing shown(msg) of each as a JSON line; closes the
    consumer, and fails when none came within TIMEOUT_S."""
    consumer.subscribe([topic])
    seen = 0
    deadline = time.time() + timeout_s
    while seen < count and time.time() < deadline:
        msg = consumer.poll(1.0)
        if msg is None:
            continue
        if msg.error():
            raise SystemExit("consume error: %s" % msg.error())
        print(json.dumps(shown(msg)))
        seen += 1
    consumer.close()
    if seen == 0:
        raise SystemExit("no records on %s within %s s" % (topic, timeout_s))


def avro_consume(bootstrap, registry, topic, count, timeout_s):
    from confluent_kafka.avro import AvroConsumer
    consumer = AvroConsumer({"bootstrap.servers": bootstrap, "schema.registry.url": registry,
                             "group.id": "confluent-peer-%d" % time.time_ns(), "auto.offset.reset": "earliest",
                             "enable.auto.commit": False, "isolation.level": "read_committed"})
    print_records(consumer, topic, count, timeout_s, lambda msg: {"key": msg.key(), "value": msg.value()})


def deserializing_consume(bootstrap, registry, topic, count, timeout_s):
    from confluent_kafka import DeserializingConsumer
    from confluent_kafka.serialization import StringDeserializer
    serializer = MessageSerializer(CachedSchemaRegistryClient({"url": registry}))
    consumer = DeserializingConsumer({
        "bootstrap.servers": bootstrap, "group.id": "confluent-peer-%d" % time.time_ns(),
        "auto.offset.reset": "earliest", "enable.auto.commit": False, "isolation.level": "read_committed",
        "key.deserializer": StringDeserializer("utf_8"),
        "value.deserializer": lambda value, ctx: serializer.decode_message(value)})
    print_records(consumer, topic, count, timeout_s, lambda msg: {"key": msg.key(), "value": msg.value()})


def produce(bootstrap, registry, topic, count, keys):
    serializer = MessageSerializer(CachedSchemaRegistryClient({"url": registry}))
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i in range(count):
        event = event_at(i, keys)
        value = serializer.encode_record_with_schema(topic, EVENT_SCHEMA, event, is_key=False)
        producer.produce(topic, key=event["entityId"].encode("utf-8"), value=value)
        if i % 1000 == 0:
            producer.poll(0)
    remaining = producer.flush(30)
    if remaining:
        raise SystemExit("%d events were not delivered" % remaining)
    print(json.dumps({"produced": count}))


def consume(bootstrap, registry, topic, count, timeout_s):
    serializer = MessageSerializer(CachedSchemaRegistryClient({"url": registry}))
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "confluent-peer-%d" % time.time_ns(),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": "read_committed"})
    print_records(consumer, topic, count, timeout_s, lambda msg: serializer.decode_message(msg.value()))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "produce":
        produce(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    elif mode == "consume":
        consume(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6]))
    elif mode == "avro-produce":
        avro_produce(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    elif mode == "avro-consume":
        avro_consume(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6]))
    elif mode == "deserializing-consume":
        deserializing_consume(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6]))
    elif mode == "click-produce":
        click_produce(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]),
                      int(sys.argv[8]), *(int(a) for a in sys.argv[9:13]))
    elif mode == "json-produce":
        json_produce(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    else:
        raise SystemExit("usage: confluent_peer.py produce|consume|avro-produce|avro-consume|click-produce|json-produce ...")
