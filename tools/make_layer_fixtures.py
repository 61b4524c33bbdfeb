#!/usr/bin/env python3
"""Per-layer PyTorch reference values for the NeuralNet tests (no torch needed in CI).

Writes Tests/NeuralNetTests/Fixtures/layers.safetensors: for each case, the inputs, the
parameters, the output and the gradients of sum(output * upstream) with respect to the input
and the parameters, computed by PyTorch in float64 and stored as float32. Also three Adam steps
with coupled weight decay. Run from the repository root with torch and safetensors installed.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(7)
torch.set_default_dtype(torch.float64)
out = {}


def record(prefix, module, x, **extra):
    x = x.clone().requires_grad_(True)
    y = module(x)
    up = torch.randn_like(y)
    (y * up).sum().backward()
    out[f"{prefix}.input"] = x.detach()
    out[f"{prefix}.output"] = y.detach()
    out[f"{prefix}.upstream"] = up
    out[f"{prefix}.grad_input"] = x.grad.detach()
    for name, p in module.named_parameters():
        out[f"{prefix}.{name}"] = p.detach()
        out[f"{prefix}.grad_{name}"] = p.grad.detach()
    for name, b in module.named_buffers():
        if b.dtype.is_floating_point:
            out[f"{prefix}.after_{name}"] = b.detach()


record("conv", nn.Conv2d(5, 7, 3, stride=2, padding=1, bias=True), torch.randn(2, 5, 9, 11))
record("conv_dilated", nn.Conv2d(3, 4, 3, padding=2, dilation=2, bias=False), torch.randn(1, 3, 8, 7))
record("conv_7x7", nn.Conv2d(3, 8, 7, stride=2, padding=3, bias=False), torch.randn(2, 3, 16, 12))
record("conv_1x1", nn.Conv2d(6, 5, 1, bias=True), torch.randn(2, 6, 4, 5))
record("conv_1x1_s2", nn.Conv2d(6, 5, 1, stride=2, bias=False), torch.randn(2, 6, 7, 5))
bn = nn.BatchNorm2d(6)
with torch.no_grad():
    bn.weight.uniform_(0.5, 1.5); bn.bias.uniform_(-0.5, 0.5)
bn.train()
record("bn", bn, torch.randn(3, 6, 5, 4) * 2 + 1)
gn = nn.GroupNorm(4, 8)
with torch.no_grad():
    gn.weight.uniform_(0.5, 1.5); gn.bias.uniform_(-0.5, 0.5)
record("gn", gn, torch.randn(2, 8, 5, 3))
record("maxpool", nn.MaxPool2d(3, 2, 1), torch.randn(2, 3, 9, 8))
record("nearest2", nn.Upsample(scale_factor=2, mode="nearest"), torch.randn(2, 3, 4, 5))
record("bilinear2", nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), torch.randn(2, 3, 4, 5))
record("bilinear4", nn.UpsamplingBilinear2d(scale_factor=4), torch.randn(1, 2, 3, 6))

logits = torch.randn(2, 1, 6, 5) * 4
target = (torch.rand(2, 1, 6, 5) > 0.5).double()
lg = logits.clone().requires_grad_(True)
loss = F.binary_cross_entropy_with_logits(lg, target)
loss.backward()
out["bce.logits"], out["bce.target"], out["bce.loss"], out["bce.grad"] = logits, target, loss.detach().reshape(1), lg.grad

# Adam with coupled (L2) weight decay, three steps with fixed gradients.
p = torch.randn(10, requires_grad=True)
out["adam.initial"] = p.detach().clone()
opt = torch.optim.Adam([p], lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)
for step in range(3):
    g = torch.randn(10)
    out[f"adam.grad{step}"] = g
    opt.zero_grad()
    p.grad = g.clone()
    opt.step()
    out[f"adam.after{step}"] = p.detach().clone()

# 3 x 3 stride-1 convolutions (sootctl's Winograd path in training), recorded last so the
# earlier cases keep their random values: odd sizes (partial tiles), a batch, wide channels.
record("conv_3x3", nn.Conv2d(6, 9, 3, padding=1, bias=True), torch.randn(3, 6, 7, 9))
record("conv_3x3_wide", nn.Conv2d(40, 33, 3, padding=1, bias=False), torch.randn(2, 40, 12, 11))
record("conv_3x3_single", nn.Conv2d(4, 5, 3, padding=1, bias=False), torch.randn(1, 4, 1, 3))

save_file({k: v.float().contiguous() for k, v in out.items()}, "Tests/NeuralNetTests/Fixtures/layers.safetensors",
          metadata={"torch": torch.__version__})
print("wrote", len(out), "tensors")
