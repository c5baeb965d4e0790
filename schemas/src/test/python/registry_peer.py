"""Confluent's own Python client as an independent peer of Spillway's schema registry and serde.

No broker is needed: values travel as hex text on stdin/stdout, one JSON object a line.
Uses the legacy Avro API of Debian's python3-confluent-kafka (CachedSchemaRegistryClient +
MessageSerializer; needs python3-avro and python3-requests). Run it with the system interpreter
(/usr/bin/python3), where Debian installs those packages.

  registry_peer.py encode REGISTRY_URL TOPIC SCHEMA_FILE
      stdin:  one JSON record a line (Avro JSON-like: unions as plain values)
      stdout: {"schema_id": N, "hex": "..."} a line; registers SCHEMA_FILE under TOPIC-value
  registry_peer.py decode REGISTRY_URL
      stdin:  one hex-encoded Confluent wire-format value a line
      stdout: {"schema_id": N, "schema_name": "ns.Name", "record": {...}} a line
  registry_peer.py probe REGISTRY_URL SUBJECT SCHEMA_FILE
      registers SCHEMA_FILE under SUBJECT and reads it back through the client's other calls;
      prints one JSON object with what the client saw

Exit status 0 on success; on failure a message on stderr and a non-zero status.
"""
import binascii
import json
import struct
import sys

from confluent_kafka.avro import CachedSchemaRegistryClient, loads
from confluent_kafka.avro.serializer.message_serializer import MessageSerializer


def _client(url):
    return CachedSchemaRegistryClient({"url": url})


def _schema(path):
    with open(path, encoding="utf-8") as f:
        return loads(f.read())


def _lines(stream):
    for line in stream:
        line = line.strip()
        if line:
            yield line


def _json_safe(value):
    # Avro bytes decode to Python bytes, which JSON cannot hold: show them as hex.
    if isinstance(value, (bytes, bytearray)):
        return binascii.hexlify(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def encode(url, topic, schema_file):
    schema = _schema(schema_file)
    serializer = MessageSerializer(_client(url))
    for line in _lines(sys.stdin):
        value = serializer.encode_record_with_schema(topic, schema, json.loads(line), is_key=False)
        schema_id = struct.unpack(">bI", value[:5])[1]
        print(json.dumps({"schema_id": schema_id, "hex": binascii.hexlify(value).decode("ascii")}), flush=True)


def decode(url):
    client = _client(url)
    serializer = MessageSerializer(client)
    for line in _lines(sys.stdin):
        value = binascii.unhexlify(line)
        record = serializer.decode_message(value)
        schema_id = struct.unpack(">bI", value[:5])[1]
        writer = client.get_by_id(schema_id)
        print(json.dumps({"schema_id": schema_id, "schema_name": writer.fullname, "record": _json_safe(record)}),
              flush=True)


def probe(url, subject, schema_file):
    schema = _schema(schema_file)
    client = _client(url)
    schema_id = client.register(subject, schema)
    # A fresh client has no cache, so every answer below comes from the registry over HTTP.
    fresh = _client(url)
    again = fresh.register(subject, schema)
    latest_id, latest_schema, latest_version = fresh.get_latest_schema(subject)
    by_id = fresh.get_by_id(schema_id)
    result = {
        "schema_id": schema_id,
        "register_again_id": again,
        "latest_id": latest_id,
        "latest_version": latest_version,
        "latest_name": latest_schema.fullname if latest_schema is not None else None,
        "by_id_name": by_id.fullname if by_id is not None else None,
        "version_of_schema": _client(url).get_version(subject, schema),
        "compatible_with_itself": fresh.test_compatibility(subject, schema),
        "global_compatibility": fresh.get_compatibility(),
        "set_subject_compatibility": fresh.update_compatibility("FULL", subject),
        "subject_compatibility": fresh.get_compatibility(subject),
    }
    print(json.dumps(result), flush=True)


def main(argv):
    if len(argv) >= 5 and argv[1] == "encode":
        encode(argv[2], argv[3], argv[4])
    elif len(argv) >= 3 and argv[1] == "decode":
        decode(argv[2])
    elif len(argv) >= 5 and argv[1] == "probe":
        probe(argv[2], argv[3], argv[4])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
