#!/usr/bin/env python3
"""Checks that the shipped model runs in PyTorch as it does in sootctl.

Loads models/default.safetensors into segmentation_models_pytorch's FPN (ResNet-18), runs it on
a 512 x 512 crop of a shared real image downscaled to the model's 0.8 nm/px, and writes the crop
(OUT/crop.png, pixel size in its text chunk) and PyTorch's probabilities (OUT/torch_prob.npy).
Then compare with sootctl:
    sootctl segment OUT/crop.png --method cnn --raw --probability --out OUT/sootctl
    python3 tools/check_default_model_pytorch.py OUT --compare
Usage: python3 tools/check_default_model_pytorch.py OUT [IMAGE]
Needs: pip install torch segmentation-models-pytorch safetensors pillow numpy
"""
import os
import sys

import numpy as np
from PIL import Image, PngImagePlugin

out = sys.argv[1]
if len(sys.argv) > 2 and sys.argv[2] == "--compare":
    ours = np.array(Image.open(f"{out}/sootctl/probability/crop.png")).astype(np.float64) / 65535
    theirs = np.load(f"{out}/torch_prob.npy")
    diff = np.abs(ours - theirs)
    agree = ((ours > 0.5) == (theirs > 0.5)).mean()
    print(f"max |p_sootctl - p_torch| = {diff.max():.2e} (16-bit PNG step 1.5e-05), mean {diff.mean():.2e}; "
          f"decisions agree on {100 * agree:.4f} % of pixels")
    sys.exit(0 if diff.max() < 1e-3 else 1)

import torch
import segmentation_models_pytorch as smp
from safetensors.torch import load_file

image_path = sys.argv[2] if len(sys.argv) > 2 else "../shared/data/real/images/20180529_A9_003.png"
os.makedirs(out, exist_ok=True)
torch.set_num_threads(2)
state = {k: (v.float() if v.is_floating_point() else v) for k, v in load_file("models/default.safetensors").items()}
# The decoder widths (smp's decoder_pyramid_channels / decoder_segmentation_channels) come from
# the file's shapes, as sootctl reads them: the shipped model uses 128 / 64.
model = smp.FPN(encoder_name="resnet18", encoder_weights=None, classes=1,
                decoder_pyramid_channels=state["decoder.p5.weight"].shape[0],
                decoder_segmentation_channels=state["segmentation_head.0.weight"].shape[1])
model.load_state_dict(state)
model.eval()
# 0.4 nm/px -> 0.8 nm/px by 2 x 2 block means (= area averaging), then a 512 x 512 crop.
gray = np.array(Image.open(image_path).convert("L")).astype(np.float32) / 255
h, w = gray.shape
half = gray[: h // 2 * 2, : w // 2 * 2].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
crop = half[200:712, 300:812]
byte_crop = np.clip(np.round(crop * 255), 0, 255).astype(np.uint8)
info = PngImagePlugin.PngInfo()
info.add_text("pixel_size_nm", "0.8")
Image.fromarray(byte_crop).save(f"{out}/crop.png", pnginfo=info)
x = torch.from_numpy(byte_crop.astype(np.float32) / 255)[None, None].repeat(1, 3, 1, 1)
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
with torch.no_grad():
    p = torch.sigmoid(model((x - mean) / std))[0, 0].double().numpy()
np.save(f"{out}/torch_prob.npy", p)
print(f"wrote {out}/crop.png and {out}/torch_prob.npy (soot fraction {(p > 0.5).mean():.3f})")
