"""fedglioma's MultiTaskUNet3D in PyTorch, parameter for parameter the network of
models/multitask_unet3d.cpp, so that a run's model.pt can be loaded, inspected, fine-tuned and
exported outside fedglioma.

    import sys; sys.path.insert(0, "path/to/fedglioma/models")
    from multitask_unet3d import load_run
    net = load_run("runs/smoke-...")            # config.resolved.json + model.pt, by name
    mask_logits, marker_logits = net(x)         # x: [N, 4, D, H, W], t1, t1c, t2, flair

`forward` returns the whole-tumour logits [N, 1, D, H, W] and the marker head's raw logits
[N, 4] (IDH, 1p/19q, MGMT, grade 4 vs 2-3) or, with `grade_classes` 3, [N, 6] (IDH, 1p/19q,
MGMT, then WHO grade 2, 3, 4), which is also what the TorchScript and ONNX exports return
(docs/model.md). `marker_probabilities` turns them into fedglioma's four probabilities.
Inputs are what `fedglioma preprocess --export` writes, as a tensor [N, 4, D, H, W] whose last
axis is the NIfTI's first (i): `torch.from_numpy(nifti.get_fdata()).permute(2, 1, 0)`.

Runs with Debian's python3-torch (1.13) and pip's torch 2.x; no other dependency.
"""

import json
import os
from typing import List, Tuple

import torch
from torch import nn
import torch.nn.functional as F


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm3d(channels, affine=True)
    if kind == "batch":
        return nn.BatchNorm3d(channels)
    if kind == "group":
        groups = min(8, channels)  # up to 8 groups that divide the channel count, as in C++
        while channels % groups != 0:
            groups -= 1
        return nn.GroupNorm(groups, channels)
    raise ValueError(f"model.norm must be instance, group or batch, got {kind!r}")


def _conv_block(norm: str, cin: int, cout: int, stride: int) -> List[nn.Module]:
    """3x3x3 conv (no bias) -> norm -> LeakyReLU(0.01): indices 0, 1, 2 of its Sequential."""
    return [nn.Conv3d(cin, cout, 3, stride=stride, padding=1, bias=False), _norm(norm, cout),
            nn.LeakyReLU(0.01)]


class MultiTaskUNet3D(nn.Module):
    """The C++ network's layers under the C++ network's parameter names (encoder.L.K.weight,
    upsample.I.weight, decoder.I.K.*, mask_head.*, marker_head.{0,2}.*, task_log_variance)."""

    def __init__(self, depth: int = 4, base_channels: int = 16, max_channels: int = 320,
                 norm: str = "instance", head_hidden: int = 64, tumour_pooling: bool = True,
                 head_features: str = "bottleneck", grade_classes: int = 2,
                 task_uncertainty: bool = False, in_channels: int = 4, dropout: float = 0.0,
                 segmentation: str = "whole_tumour"):
        super().__init__()
        if not 1 <= depth <= 7:
            raise ValueError(f"model.depth must be in [1, 7], got {depth}")
        if head_features not in ("bottleneck", "all_levels"):
            raise ValueError(f"model.head_features must be bottleneck or all_levels, got {head_features!r}")
        if grade_classes not in (2, 3):
            raise ValueError(f"model.grade_classes must be 2 or 3, got {grade_classes}")
        self.depth, self.tumour_pooling, self.head_features = depth, tumour_pooling, head_features
        self.grade_classes, self.dropout_p = grade_classes, dropout
        ch = [min(base_channels << level, max_channels) for level in range(depth)]
        self.encoder = nn.ModuleList(
            nn.Sequential(*_conv_block(norm, in_channels if level == 0 else ch[level - 1], ch[level],
                                       1 if level == 0 else 2),
                          *_conv_block(norm, ch[level], ch[level], 1))
            for level in range(depth))
        self.upsample = nn.ModuleList(
            nn.ConvTranspose3d(ch[level + 1], ch[level], 2, stride=2, bias=False)
            for level in range(depth - 2, -1, -1))
        self.decoder = nn.ModuleList(
            nn.Sequential(*_conv_block(norm, 2 * ch[level], ch[level], 1), *_conv_block(norm, ch[level], ch[level], 1))
            for level in range(depth - 2, -1, -1))
        # One logit per voxel for the whole tumour, or three: whole tumour, core, enhancing.
        self.mask_head = nn.Conv3d(ch[0], 3 if segmentation == "brats_regions" else 1, 1)
        pooled = ch[-1] if tumour_pooling else 0
        pooled += sum(2 * c for c in ch) if head_features == "all_levels" else 2 * ch[-1]
        outputs = 3 + (3 if grade_classes == 3 else 1)
        self.marker_head = nn.Sequential(nn.Linear(pooled, head_hidden), nn.LeakyReLU(0.01),
                                         nn.Linear(head_hidden, outputs))
        if task_uncertainty:
            self.task_log_variance = nn.Parameter(torch.zeros(5))
        self.size_multiple = 1 << (depth - 1)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        skips: List[torch.Tensor] = []
        h = x
        for stage in self.encoder:
            h = stage(h)
            skips.append(h)
        bottleneck = h
        for i, (up, stage) in enumerate(zip(self.upsample, self.decoder)):
            h = stage(torch.cat([up(h), skips[len(skips) - 2 - i]], 1))
        mask_logits = self.mask_head(h)
        pooled: List[torch.Tensor] = []
        if self.head_features == "all_levels":
            for level in skips:
                pooled.append(level.mean((2, 3, 4)))
                pooled.append(level.amax((2, 3, 4)))
        else:
            pooled = [bottleneck.mean((2, 3, 4)), bottleneck.amax((2, 3, 4))]
        if self.tumour_pooling:
            weight = torch.sigmoid(mask_logits.detach()[:, :1])  # the whole tumour
            if self.size_multiple > 1:
                weight = F.avg_pool3d(weight, self.size_multiple)
            pooled.append((bottleneck * weight).sum((2, 3, 4)) / (weight.sum((2, 3, 4)) + 1e-3))
        features = F.dropout(torch.cat(pooled, 1), self.dropout_p, self.training)
        hidden = F.dropout(self.marker_head[1](self.marker_head[0](features)), self.dropout_p, self.training)
        return mask_logits, self.marker_head[2](hidden)


def marker_probabilities(marker_logits: torch.Tensor) -> torch.Tensor:
    """[N, 4] probabilities in fedglioma's order (IDH-mutant, 1p/19q co-deleted, MGMT methylated,
    WHO grade 4) from the head's [N, 4] or [N, 6] logits (3-class grade: P(4) of the softmax)."""
    if marker_logits.shape[1] == 6:
        grade = torch.softmax(marker_logits[:, 3:6], 1)[:, 2:3]
        return torch.cat([torch.sigmoid(marker_logits[:, :3]), grade], 1)
    return torch.sigmoid(marker_logits)


_OPTIONS = ("depth", "base_channels", "max_channels", "norm", "head_hidden", "tumour_pooling",
            "head_features", "grade_classes", "task_uncertainty", "dropout", "segmentation")


def from_config(model_section: dict) -> MultiTaskUNet3D:
    """The network of a resolved config's `model` section (config.resolved.json["model"])."""
    name = model_section.get("name", "multitask_unet3d")
    if name != "multitask_unet3d":
        raise ValueError(f"model.name is {name!r}; this module builds multitask_unet3d")
    return MultiTaskUNet3D(**{k: model_section[k] for k in _OPTIONS if k in model_section})


def load_run(run_dir: str, model_file: str = "model.pt") -> MultiTaskUNet3D:
    """A run's network with its trained weights, in eval mode. Every tensor of model.pt is loaded
    by its name (strict: a missing or extra name, or another shape, is an error)."""
    with open(os.path.join(run_dir, "config.resolved.json"), encoding="utf-8") as f:
        net = from_config(json.load(f)["model"])
    state = torch.load(os.path.join(run_dir, model_file), map_location="cpu")
    net.load_state_dict(state, strict=True)
    return net.eval()
