#!/usr/bin/python3
"""Runs a model in Python on preprocessed cases and compares its outputs with reference outputs
(a safetensors file of `mask_logits` [N, 1 or 3, D, H, W] and `probabilities` [N, 4], written by the
C++ side): the test that the Python network (models/multitask_unet3d.py) and each export equal
fedglioma's. Prints the largest differences; exits 1 beyond --tolerance.

  /usr/bin/python3 scripts/check_python_model.py --run RUN_DIR --cases EXPORT_DIR/CASE [...]
      --expected REF.safetensors [--weights model.pt | --safetensors F | --torchscript F]
      [--tolerance 1e-4]

Each case folder is one of `fedglioma preprocess --export`'s ({t1,t1c,t2,flair}.nii.gz).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))

import nibabel  # noqa: E402
import numpy  # noqa: E402
import torch  # noqa: E402

import safetensors_io  # noqa: E402
from multitask_unet3d import from_config, marker_probabilities  # noqa: E402

MODALITIES = ("t1", "t1c", "t2", "flair")


def case_tensor(folder: str) -> torch.Tensor:
    """[4, D, H, W]: each NIfTI's (i, j, k) array reversed, so W runs along i as in fedglioma."""
    volumes = [numpy.asarray(nibabel.load(os.path.join(folder, m + ".nii.gz")).get_fdata(), dtype=numpy.float32)
               for m in MODALITIES]
    return torch.from_numpy(numpy.stack([v.transpose(2, 1, 0) for v in volumes]).copy())


def model_of(a):
    import json
    if a.torchscript:
        return torch.jit.load(a.torchscript).eval()
    with open(os.path.join(a.run, "config.resolved.json"), encoding="utf-8") as f:
        net = from_config(json.load(f)["model"])
    if a.safetensors:
        state, _ = safetensors_io.load(a.safetensors)
    else:
        state = torch.load(a.weights or os.path.join(a.run, "model.pt"), map_location="cpu")
    net.load_state_dict(state, strict=True)
    return net.eval()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True)
    p.add_argument("--cases", nargs="+", required=True)
    p.add_argument("--expected", required=True)
    p.add_argument("--weights")
    p.add_argument("--safetensors")
    p.add_argument("--torchscript")
    p.add_argument("--tolerance", type=float, default=1e-4)
    a = p.parse_args()
    torch.set_num_threads(1)
    x = torch.stack([case_tensor(c) for c in a.cases])
    with torch.no_grad():
        mask_logits, marker_logits = model_of(a)(x)
    expected, _ = safetensors_io.load(a.expected)
    for name, got in (("mask_logits", mask_logits), ("probabilities", marker_probabilities(marker_logits))):
        if got.shape != expected[name].shape:  # a broadcast would hide a missing output
            print(f"check_python_model: {name} has shape {list(got.shape)}, C++ {list(expected[name].shape)}")
            return 1
    d_mask = (mask_logits - expected["mask_logits"]).abs().max().item()
    d_prob = (marker_probabilities(marker_logits) - expected["probabilities"]).abs().max().item()
    scale = max(1.0, expected["mask_logits"].abs().max().item())
    print(f"check_python_model: max |d mask_logits| = {d_mask:.3g} (of up to {scale:.3g}), "
          f"max |d probabilities| = {d_prob:.3g}, tolerance {a.tolerance:g} (relative to the logits' scale)")
    return 0 if d_mask <= a.tolerance * scale and d_prob <= a.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
