#!/usr/bin/python3
"""Loads a fedglioma model.pt as a name -> tensor dictionary and prints each tensor.

Usage: /usr/bin/python3 scripts/load_model_pt.py MODEL.pt [--json OUT] [--reader auto|torch|format]

Prints name, dtype, shape and sum of each tensor, in the file's order. --json OUT writes {name:
{"shape", "dtype", "sum" (null when not finite), "finite", "sha256" (of the little-endian,
row-major bytes)}}. A malformed file is an error naming it: exit status 1, no traceback.

model.pt (sim/state/model_state.cpp, save_state_dict) is torch.save's zip layout: archive/data.pkl
(pickle protocol 2), archive/data/<key> (one record per storage) and archive/version. The pickle
is a plain dict whose only globals are torch._utils._rebuild_tensor_v2, torch.FloatStorage and
collections.OrderedDict (the empty backward hooks), all in torch.load's weights_only allowlist.

Readers (auto: torch when it is importable, else format):
  torch   torch.load(path, map_location="cpu", weights_only=True), converted to numpy.
  format  numpy only; reads the file as torch.load does:
          - torch/serialization.py `load`: zip magic PK\\x03\\x04 required (no legacy formats);
            a `constants.pkl` record means a TorchScript archive, refused.
          - caffe2/serialize/inline_container.cc `PyTorchStreamReader::init`: records live under
            the first record's top directory; version from `.data/version` or `version`, >= 1.
          - torch/serialization.py `_load`: `byteorder` record (default little);
            persistent ids ("storage", type, key, location, numel) read `data/<key>` once per key.
          - torch/_weights_only_unpickler.py: only the globals above (any torch.<Type>Storage);
            anything else is an error naming the global.
          - torch/_utils.py `_rebuild_tensor_v2`: a strided view of the storage, bounds-checked.
          zipfile checks each record's CRC-32, as torch's miniz reader does.
"""
import argparse
import collections
import hashlib
import io
import json
import math
import pickle
import sys
import zipfile
import zlib

import numpy as np
from numpy.lib.stride_tricks import as_strided

# GLOBAL torch <Name>Storage -> element type (torch.storage._dtype_to_storage_type_map, numpy's).
STORAGE_DTYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16", "CharStorage": "int8",
    "ByteStorage": "uint8", "BoolStorage": "bool", "ComplexDoubleStorage": "complex128",
    "ComplexFloatStorage": "complex64",
}


class InputError(Exception):
    """The file cannot be read as a name -> tensor dictionary; the message says why."""


class Storage:
    """One storage record's elements, as a 1-D array in native byte order."""

    def __init__(self, dtype, values):
        self.dtype = dtype
        self.values = values


class Tensor:
    """An array that _rebuild_tensor_v2 made (so that the result can be told from other values)."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    """torch._utils._rebuild_tensor_v2: the strided view of `storage`, copied."""
    if not isinstance(storage, Storage):
        raise InputError("a tensor's first argument is not a storage")
    if not is_int(storage_offset) or storage_offset < 0:
        raise InputError(f"bad storage offset {storage_offset!r}")
    if (not isinstance(size, tuple) or not isinstance(stride, tuple) or len(size) != len(stride)
            or not all(is_int(n) and n >= 0 for n in size) or not all(is_int(s) and s >= 0 for s in stride)):
        raise InputError(f"bad tensor size {size!r} or stride {stride!r}")
    if not isinstance(requires_grad, bool) or not isinstance(backward_hooks, dict):
        raise InputError("bad requires_grad or backward_hooks argument")
    if metadata:
        raise InputError("tensor metadata (conjugate or negative bits) is not supported")
    if math.prod(size) == 0:
        return Tensor(np.zeros(size, dtype=storage.dtype))
    last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= storage.values.size:
        raise InputError(f"a tensor of size {list(size)} reaches past its storage of {storage.values.size} elements")
    base = storage.values[storage_offset:]
    view = as_strided(base, shape=size, strides=[s * base.itemsize for s in stride], writeable=False)
    return Tensor(np.array(view))


ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor_v2,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles data.pkl with only ALLOWED_GLOBALS and the storage types; storages from `archive`."""

    def __init__(self, data, archive, prefix, byteorder):
        super().__init__(io.BytesIO(data), encoding="utf-8")
        self.archive, self.prefix, self.byteorder = archive, prefix, byteorder
        self.storages = {}

    def find_class(self, module, name):
        if (module, name) in ALLOWED_GLOBALS:
            return ALLOWED_GLOBALS[(module, name)]
        if module == "torch" and name in STORAGE_DTYPES:
            return np.dtype(STORAGE_DTYPES[name])
        raise InputError(f"the pickle names global {module}.{name}, which is not allowed: a name -> tensor "
                         "dictionary needs only _rebuild_tensor_v2, storage types and OrderedDict")

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and pid and isinstance(pid[0], bytes):
            pid = (pid[0].decode("ascii"),) + pid[1:]
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise InputError(f"unsupported persistent id {str(pid)[:80]}")
        _, dtype, key, _location, numel = pid
        if not isinstance(dtype, np.dtype) or not isinstance(key, str) or not is_int(numel) or numel < 0:
            raise InputError(f"bad storage reference {str(pid)[:80]}")
        if key in self.storages:
            storage = self.storages[key]
            if storage.dtype != dtype:
                raise InputError(f"storage {key} is used as {storage.dtype} and as {dtype}")
            return storage
        record = f"{self.prefix}/data/{key}"
        raw = read_record(self.archive, record)
        if len(raw) != numel * dtype.itemsize:
            raise InputError(f"record {record} holds {len(raw)} bytes, its storage {numel * dtype.itemsize}")
        order = "<" if self.byteorder == "little" else ">"
        storage = Storage(dtype, np.frombuffer(raw, dtype=dtype.newbyteorder(order)).astype(dtype))
        self.storages[key] = storage
        return storage


def read_record(archive, name):
    """The bytes of record `name`; InputError when it is missing or damaged (a CRC-32 mismatch)."""
    try:
        return archive.read(name)
    except KeyError:
        raise InputError(f"no record {name}") from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as e:
        raise InputError(f"record {name} is damaged ({e})") from None


def load_with_format_reader(path):
    """The unpickled object of `path`, read from the zip and pickle format itself."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}") from None
    if head != b"PK\x03\x04":
        raise InputError("not a zip archive, so not a torch.save-format file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if not names or "/" not in names[0]:
                raise InputError("the archive's first record is not in a subdirectory")
            prefix = names[0].split("/", 1)[0]
            if f"{prefix}/constants.pkl" in names:
                raise InputError("a TorchScript archive (torch.jit.save), not a tensor dictionary")
            version_name = f"{prefix}/.data/version" if f"{prefix}/.data/version" in names else f"{prefix}/version"
            version = read_record(archive, version_name)
            if not version.strip().isdigit() or int(version) < 1:
                raise InputError(f"record {version_name} is not a format version: {version[:20]!r}")
            byteorder = "little"
            if f"{prefix}/byteorder" in names:
                byteorder = read_record(archive, f"{prefix}/byteorder").decode("ascii", "replace")
                if byteorder not in ("little", "big"):
                    raise InputError(f"unknown byte order {byteorder!r}")
            data = read_record(archive, f"{prefix}/data.pkl")
            try:
                return RestrictedUnpickler(data, archive, prefix, byteorder).load()
            except InputError:
                raise
            except Exception as e:  # the unpickler raises many kinds on damaged data
                raise InputError(f"{prefix}/data.pkl is not a readable pickle ({type(e).__name__}: {e})") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as e:
        raise InputError(f"not a readable zip archive ({e})") from None


def load_with_torch(path):
    try:
        import torch
    except ImportError:
        raise InputError("--reader torch: torch is not importable (--reader format needs only numpy)") from None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises RuntimeError, UnpicklingError, ... on a damaged file
        message = str(e).strip()
        raise InputError(f"torch.load failed: {message.splitlines()[-1] if message else type(e).__name__}") from None


def to_array(name, value):
    if isinstance(value, Tensor):
        return value.array
    if type(value).__module__.startswith("torch") and hasattr(value, "numpy"):
        try:
            return value.detach().cpu().contiguous().numpy()
        except TypeError as e:  # bfloat16 and other types numpy lacks
            raise InputError(f"tensor {name}: {e}") from None
    raise InputError(f"entry {str(name)[:60]!r} is not a name -> tensor pair")


def load_state(path, reader="auto"):
    """{name: ndarray} of `path`, and the reader that read it. Raises InputError."""
    if reader == "auto":
        try:
            import torch  # noqa: F401
            reader = "torch"
        except ImportError:
            reader = "format"
    result = load_with_torch(path) if reader == "torch" else load_with_format_reader(path)
    if not isinstance(result, dict):
        raise InputError(f"holds a {type(result).__name__}, not a name -> tensor dictionary")
    if not all(isinstance(name, str) for name in result):
        raise InputError("a key is not a name")
    return {name: to_array(name, value) for name, value in result.items()}, reader


def describe(array):
    """The --json entry of one tensor."""
    total = float(np.sum(array, dtype=np.complex128 if np.iscomplexobj(array) else np.float64).real)
    finite = bool(np.all(np.isfinite(array))) if array.dtype.kind in "fc" else True
    little = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False)
    return {"shape": list(array.shape), "dtype": str(array.dtype), "sum": total if math.isfinite(total) else None,
            "finite": finite, "sha256": hashlib.sha256(little.tobytes()).hexdigest()}


def main():
    summary, _, details = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(description=" ".join(summary.split()), epilog=details,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a model.pt (a torch.save-format name -> tensor dictionary)")
    parser.add_argument("--json", metavar="OUT", help="write name -> shape, dtype, sum, finite, sha256 as JSON")
    parser.add_argument("--reader", choices=("auto", "torch", "format"), default="auto",
                        help="torch.load, or the numpy-only format reader (default: torch when importable)")
    args = parser.parse_args()
    try:
        state, reader = load_state(args.model, args.reader)
    except InputError as e:
        sys.exit(f"load_model_pt.py: error: {args.model}: {e}")
    entries = {name: describe(array) for name, array in state.items()}
    for name, entry in entries.items():
        total = "nan/inf" if entry["sum"] is None else f"{entry['sum']:.9g}"
        print(f"{name}  {entry['dtype']}  {entry['shape']}  sum={total}")
    values = sum(array.size for array in state.values())
    print(f"load_model_pt.py: {args.model}: {len(state)} tensors, {values} values ({reader} reader)", file=sys.stderr)
    if args.json:
        try:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write("{\n" + ",\n".join(f" {json.dumps(name)}: {json.dumps(entry)}"
                                             for name, entry in entries.items()) + "\n}\n")
        except OSError as e:
            sys.exit(f"load_model_pt.py: error: {args.json}: cannot write: {e.strerror}")


if __name__ == "__main__":
    main()
