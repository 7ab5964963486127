#!/usr/bin/python3
"""Reads the scalars of TensorBoard event files, checking every record, without TensorFlow.

Usage: /usr/bin/python3 scripts/read_tensorboard.py DIR_OR_FILE [--json]

DIR_OR_FILE is an event file, or a folder (a run's tensorboard/) whose event files (names holding
"tfevents") are read in name order. Prints one line per scalar, `step<TAB>tag<TAB>value`, in the
files' order (the value as float32, to 9 significant digits: exact); --json prints a JSON array of
{"file", "step", "tag", "value", "wall_time"} instead. A summary line goes to stderr. A damaged or
truncated file is an error naming it and the record: exit status 1, no traceback.

An event file is a sequence of TFRecord records (tensorflow/python/lib/io/python_io.py, "TFRecords
Format Details"; tensorflow/core/lib/io/record_writer.cc):
    uint64 length, uint32 masked CRC-32C of those 8 bytes, byte data[length],
    uint32 masked CRC-32C of data      (little-endian; mask: ((crc >> 15 | crc << 17) + 0xa282ead8))
each holding one serialised tensorboard.Event. The schema is declared here at run time from
TensorBoard's public one (tensorboard/compat/proto/event.proto and summary.proto, copies of
TensorFlow's tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto), with
only the fields a scalar needs:
    Event   {double wall_time = 1; int64 step = 2;
             oneof what {string file_version = 3; Summary summary = 5;}}
    Summary {repeated Value value = 1;}
    Value   {string tag = 1; oneof value {float simple_value = 2;}}
Other fields are kept as unknown fields and ignored, and so are values that are not simple_value
(images, histograms, tensors). The first record of every file must carry a file_version starting
"brain.Event:". Needs google.protobuf (Debian: python3-protobuf); no .proto compilation.
"""
import argparse
import json
import math
import os
import struct
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

MASK_DELTA = 0xA282EAD8
HEADER = struct.Struct("<QI")
FOOTER = struct.Struct("<I")


class InputError(Exception):
    """The input cannot be read as TensorBoard event files; the message says why."""


def _crc32c_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    """CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of `data`, continuing `crc`."""
    crc ^= 0xFFFFFFFF
    table = CRC32C_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """TFRecord's mask of the CRC-32C of `data`."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & 0xFFFFFFFF


def _field(message, name, number, kind, label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
           type_name=None, oneof=None):
    f = message.field.add(name=name, number=number, type=kind, label=label)
    if type_name:
        f.type_name = type_name
    if oneof is not None:
        f.oneof_index = oneof
    return f


def event_class():
    """The Event message class, built from a descriptor declared here (no generated code)."""
    fdp = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(name="fedglioma/read_tensorboard/event.proto",
                                               package="tensorboard", syntax="proto3")
    summary = proto.message_type.add(name="Summary")
    value = summary.nested_type.add(name="Value")
    value.oneof_decl.add(name="value")
    _field(value, "tag", 1, fdp.TYPE_STRING)
    _field(value, "simple_value", 2, fdp.TYPE_FLOAT, oneof=0)
    _field(summary, "value", 1, fdp.TYPE_MESSAGE, fdp.LABEL_REPEATED, ".tensorboard.Summary.Value")
    event = proto.message_type.add(name="Event")
    event.oneof_decl.add(name="what")
    _field(event, "wall_time", 1, fdp.TYPE_DOUBLE)
    _field(event, "step", 2, fdp.TYPE_INT64)
    _field(event, "file_version", 3, fdp.TYPE_STRING, oneof=0)
    _field(event, "summary", 5, fdp.TYPE_MESSAGE, type_name=".tensorboard.Summary", oneof=0)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    descriptor = pool.FindMessageTypeByName("tensorboard.Event")
    if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.22
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def records(data):
    """(index, offset, payload) of each TFRecord record in `data`, both CRCs checked."""
    offset, index = 0, 0
    while offset < len(data):
        where = f"record {index} at byte {offset}"
        if len(data) - offset < HEADER.size:
            raise InputError(f"{where}: truncated header ({len(data) - offset} of {HEADER.size} bytes)")
        length, length_crc = HEADER.unpack_from(data, offset)
        if masked_crc32c(data[offset:offset + 8]) != length_crc:
            raise InputError(f"{where}: length CRC-32C mismatch (the file is damaged)")
        start = offset + HEADER.size
        end = start + length + FOOTER.size
        if end > len(data):
            raise InputError(f"{where}: truncated ({len(data) - start} of {length + FOOTER.size} bytes after the header)")
        payload = data[start:start + length]
        (data_crc,) = FOOTER.unpack_from(data, start + length)
        if masked_crc32c(payload) != data_crc:
            raise InputError(f"{where}: data CRC-32C mismatch (the file is damaged)")
        yield index, offset, payload
        offset, index = end, index + 1


def read_file(path, event_type):
    """The scalars of one event file, as dicts in the file's order."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}") from None
    if not data:
        raise InputError("empty file: not an event file")
    scalars = []
    for index, offset, payload in records(data):
        event = event_type()
        try:
            event.ParseFromString(payload)
        except Exception as e:  # DecodeError, or the C++ backend's RuntimeError, on bad bytes
            raise InputError(f"record {index} at byte {offset}: not an Event ({e})") from None
        if index == 0:
            if event.WhichOneof("what") != "file_version" or not event.file_version.startswith("brain.Event:"):
                raise InputError("the first record is not a file version (brain.Event:N): not an event file")
            continue
        if event.WhichOneof("what") != "summary":
            continue
        for value in event.summary.value:
            if value.WhichOneof("value") == "simple_value":
                scalars.append({"file": path, "step": event.step, "tag": value.tag,
                                "value": value.simple_value, "wall_time": event.wall_time})
    return scalars


def event_files(path):
    """The event files `path` names: itself, or the ones in the folder, by name."""
    if os.path.isdir(path):
        try:
            names = sorted(n for n in os.listdir(path) if "tfevents" in n and os.path.isfile(os.path.join(path, n)))
        except OSError as e:
            raise InputError(f"cannot list: {e.strerror}") from None
        if not names:
            raise InputError("no event files (events.out.tfevents.*) in this folder")
        return [os.path.join(path, n) for n in names]
    if not os.path.exists(path):
        raise InputError("cannot read: no such file or folder")
    return [path]


def main():
    title, _, details = __doc__.split("\n\n", 2)  # the docstring less its usage line
    parser = argparse.ArgumentParser(description=f"{title}\n\n{details}",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", metavar="DIR_OR_FILE",
                        help="an event file, or a folder whose event files (names holding 'tfevents') are all read")
    parser.add_argument("--json", action="store_true",
                        help='print a JSON array of {"file", "step", "tag", "value", "wall_time"} instead of lines')
    args = parser.parse_args()
    event_type = event_class()
    scalars, files = [], []
    try:
        files = event_files(args.path)
    except InputError as e:
        sys.exit(f"read_tensorboard.py: error: {args.path}: {e}")
    for path in files:
        try:
            scalars += read_file(path, event_type)
        except InputError as e:
            sys.exit(f"read_tensorboard.py: error: {path}: {e}")
    if args.json:
        finite = [dict(s, value=s["value"] if math.isfinite(s["value"]) else None) for s in scalars]
        json.dump(finite, sys.stdout, indent=1)
        print()
    else:
        for s in scalars:
            print(f"{s['step']}\t{s['tag']}\t{s['value']:.9g}")
    print(f"read_tensorboard.py: {args.path}: {len(files)} file(s), {len(scalars)} scalars", file=sys.stderr)


if __name__ == "__main__":
    main()
