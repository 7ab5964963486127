"""Reading and writing safetensors files with torch alone (Debian has no `safetensors` package):
an 8-byte little-endian header length, a JSON header (dtype, shape, data_offsets per tensor,
`__metadata__`), then the raw little-endian tensors. What `fedglioma export-model --format
safetensors` writes; the `safetensors` package reads the same files (`safetensors.torch.load_file`)."""

import json
import struct
from typing import Dict, Optional, Tuple

import torch

_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
           "BOOL": torch.bool}
_NAMES = {v: k for k, v in _DTYPES.items()}


def load(path: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """The tensors (name -> tensor) and the metadata of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    body = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        if not 0 <= begin <= end <= len(body):
            raise ValueError(f"{path}: tensor {name!r}: bytes [{begin}, {end}) outside the data")
        raw = bytearray(body[begin:end])
        dtype = _DTYPES[entry["dtype"]]
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors, metadata


def save(path: str, tensors: Dict[str, torch.Tensor], metadata: Optional[Dict[str, str]] = None) -> None:
    """Writes `tensors` (contiguous, CPU) in the format `load` and fedglioma read."""
    header: Dict[str, object] = {"__metadata__": {k: str(v) for k, v in metadata.items()}} if metadata else {}
    chunks, offset = [], 0
    for name, t in tensors.items():
        raw = t.detach().cpu().contiguous().numpy().tobytes() if t.dtype != torch.bfloat16 else \
            t.detach().cpu().contiguous().view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
