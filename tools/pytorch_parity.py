#!/usr/bin/env python3
"""Full-model parity data for sootctl's FPN against segmentation_models_pytorch.

For each encoder (default resnet18 and resnet50) writes into OUT:
  <enc>_weights.safetensors  random weights with non-trivial batch-norm statistics
  <enc>_io.safetensors       a 1 x 3 x 256 x 256 input and smp's sigmoid output (eval mode)
  <enc>_state.pt             the same weights via torch.save(state_dict)
  <enc>_grads.safetensors    train-mode BCE-with-logits loss and every parameter gradient on a
                             2 x 3 x 64 x 64 (ResNet-18) or 2 x 3 x 256 x 256 (ResNet-50) batch, decoder
                             dropout set to 0 so both sides agree
Then run:  SOOTCTL_PARITY_DIR=OUT swift test -c release --filter FullModelParity
Usage: python3 tools/pytorch_parity.py OUT [resnet18 resnet50 ...]
"""
import os
import sys

import torch
import torch.nn.functional as F
import segmentation_models_pytorch as smp
from safetensors.torch import save_file

out = sys.argv[1]
encoders = sys.argv[2:] or ["resnet18", "resnet50"]
os.makedirs(out, exist_ok=True)
torch.set_num_threads(2)
for name in encoders:
    torch.manual_seed(0)
    model = smp.FPN(encoder_name=name, encoder_weights=None, classes=1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.GroupNorm)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, f"{out}/{name}_weights.safetensors", metadata={"encoder": name})
    torch.save(model.state_dict(), f"{out}/{name}_state.pt")
    model.eval()
    x = torch.randn(1, 3, 256, 256)
    with torch.no_grad():
        y = torch.sigmoid(model(x))
    save_file({"input": x, "output": y}, f"{out}/{name}_io.safetensors")

    # Train mode with batch statistics of tiny feature maps is ill-conditioned (ResNet-50's
    # layer4 sees 2 x 2 pixels): PyTorch's own float32 gradients differ from float64 by up to
    # ~20 % there. So the reference is float64, and PyTorch's own float32 error is stored
    # as the yardstick for ours:
    # the relative L2 error of the whole gradient vector.
    model.decoder.dropout.p = 0.0
    side = 64 if name == "resnet18" else 256
    xb = torch.randn(2, 3, side, side)
    target = (torch.rand(2, 1, side, side) > 0.5).float()
    reference = {}
    for dtype in (torch.float64, torch.float32):
        m = smp.FPN(encoder_name=name, encoder_weights=None, classes=1)
        m.load_state_dict(model.state_dict())
        m = m.to(dtype).train()
        m.decoder.dropout.p = 0.0
        loss = F.binary_cross_entropy_with_logits(m(xb.to(dtype)), target.to(dtype))
        loss.backward()
        reference[dtype] = (loss.detach(), {k: p.grad.double() for k, p in m.named_parameters()})
    loss, g64 = reference[torch.float64]
    g32 = reference[torch.float32][1]
    grads = {"grad." + k: v.float().contiguous() for k, v in g64.items()}
    num = sum(float(((g32[k] - g64[k]) ** 2).sum()) for k in g64)
    den = sum(float((g64[k] ** 2).sum()) for k in g64)
    grads["torch32_global_error"] = torch.tensor([(num / den) ** 0.5]).float()
    grads.update({"input": xb, "target": target, "loss": loss.float().reshape(1)})
    save_file(grads, f"{out}/{name}_grads.safetensors")
    print(name, "loss", float(loss.detach()))
print("torch", torch.__version__, "smp", smp.__version__)
