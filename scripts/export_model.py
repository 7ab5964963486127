#!/usr/bin/python3
"""Exports a run's model through the Python network (models/multitask_unet3d.py; a run of your
own TorchScript network, model.name "torchscript", through that network, loaded from model.path):
TorchScript (torch.jit.script) or ONNX (torch.onnx.export, checked with onnx's checker and shape
inference).
`fedglioma export-model` calls it for these formats; it writes --out only when the export and
its checks succeeded.

  /usr/bin/python3 scripts/export_model.py --run RUN_DIR [--model RUN_DIR/model.pt] \
      --format torchscript|onnx --out FILE [--opset 13]
"""

import argparse
import json
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))

import torch  # noqa: E402

from multitask_unet3d import from_config  # noqa: E402

ONNX_OPSET = 13  # ONNX opset of the export; Debian's torch 1.13 writes up to 16


def load(run: str, model: str):
    with open(os.path.join(run, "config.resolved.json"), encoding="utf-8") as f:
        config = json.load(f)
    section = config["model"]
    state = torch.load(model, map_location="cpu")
    if section["name"] != "torchscript":
        net = from_config(section)
        net.load_state_dict(state, strict=True)
        return net.eval(), config
    net = torch.jit.load(section["path"], map_location="cpu")
    # model.pt holds the floating-point tensors; a scripted BatchNorm's integer step counter
    # (num_batches_tracked, unused in evaluation) keeps the value saved in the file.
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit(f"export_model: {model} does not fit {section['path']}: missing {missing}, unexpected {unexpected}")
    return net.eval(), config


def export_onnx(net, config, out: str, opset: int) -> str:
    import warnings

    import onnx  # Debian's python3-onnx

    # Instance norm always normalises with the instance's own statistics (no running stats), so
    # the exporter's "train=True" for it is the eval behaviour; its warning says nothing here.
    warnings.filterwarnings("ignore", message=".*operator 'instance_norm' is set to train=True.*")
    # A scripted network of the user's own (model.name "torchscript") has no Python signature to read.
    warnings.filterwarnings("ignore", message=".*skipping _decide_input_format.*")

    size = config["data"]["size"]
    dummy = torch.zeros(1, 4, size[2], size[1], size[0])  # [N, 4, D, H, W]: D is the NIfTI's k
    torch.onnx.export(net, (dummy,), out, opset_version=opset, input_names=["image"],
                      output_names=["mask_logits", "marker_logits"],
                      dynamic_axes={"image": {0: "batch"}, "mask_logits": {0: "batch"}, "marker_logits": {0: "batch"}})
    model = onnx.load(out)
    onnx.checker.check_model(model)
    inferred = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(inferred)
    shapes = {o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in inferred.graph.output}
    return f"onnx opset {opset}, outputs {shapes}"


def main() -> int:
    # SIGTERM (fedglioma killed: the parent-death signal) unwinds like an exception, so the
    # partial file below is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True)
    p.add_argument("--model")
    p.add_argument("--format", required=True, choices=["torchscript", "onnx"])
    p.add_argument("--out", required=True)
    p.add_argument("--opset", type=int, default=ONNX_OPSET)
    a = p.parse_args()
    net, config = load(a.run, a.model or os.path.join(a.run, "model.pt"))
    tmp = f"{a.out}.partial-{os.getpid()}"
    try:
        if a.format == "torchscript":
            torch.jit.script(net).save(tmp)
            what = f"torchscript (torch {torch.__version__})"
        else:
            what = export_onnx(net, config, tmp, a.opset)
        os.replace(tmp, a.out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(f"export_model: {what} -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
