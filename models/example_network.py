#!/usr/bin/python3
"""A network of your own for fedglioma, scripted and saved for `model.name: "torchscript"`
(docs/model.md, "Bring your own network"). Its parameters follow the documented names
(encoder, upsample, decoder, mask_head, marker_head), so every strategy finds its groups.

  /usr/bin/python3 models/example_network.py OUT.pt [WIDTH]
"""
import sys

import torch
from torch import nn


def block(i: int, o: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(i, o, 3, stride, 1), nn.InstanceNorm3d(o, affine=True), nn.LeakyReLU(0.01))


class TwoLevelNet(nn.Module):
    def __init__(self, width: int = 8, markers: int = 4):
        super().__init__()
        self.size_multiple = 2  # D, H and W must be even (one stride-2 level)
        self.encoder = nn.Sequential(block(4, width), block(width, 2 * width, 2))
        self.upsample = nn.ConvTranspose3d(2 * width, width, 2, 2)
        self.decoder = block(2 * width, width)
        self.mask_head = nn.Conv3d(width, 1, 1)
        self.marker_head = nn.Sequential(nn.Linear(2 * width, 32), nn.LeakyReLU(0.01), nn.Linear(32, markers))

    def forward(self, x: torch.Tensor):
        skip = self.encoder[0](x)
        deep = self.encoder[1](skip)
        mask = self.mask_head(self.decoder(torch.cat([self.upsample(deep), skip], 1)))
        return mask, self.marker_head(deep.mean((2, 3, 4)))  # [N, 1, D, H, W], [N, 4]


if __name__ == "__main__":
    torch.manual_seed(0)  # the initial weights: the federation starts from the saved ones
    torch.jit.script(TwoLevelNet(int(sys.argv[2]) if len(sys.argv) > 2 else 8)).save(sys.argv[1])
