#!/usr/bin/env python3
"""Reference CLAHE results from OpenCV for ImageCore tests (small PNG fixtures).

clahe_input.png (a smooth low-contrast field with noise, 200 x 150: not a multiple of the tile
grid, so the reflect padding is exercised) and clahe_expected_CLIP.png for clip limits 1, 2
and 4 with 8 x 8 tiles. Run from the repository root: pip install opencv-python-headless pillow.
"""
import cv2
import numpy as np
from PIL import Image

OUT = "Tests/ImageCoreTests/Fixtures"
rng = np.random.default_rng(7)
h, w = 150, 200
yy, xx = np.mgrid[0:h, 0:w]
field = 110 + 25 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + rng.normal(0, 6, (h, w))
image = np.clip(field.round(), 0, 255).astype(np.uint8)
Image.fromarray(image).save(f"{OUT}/clahe_input.png")
for clip in (1, 2, 4):
    out = cv2.createCLAHE(clipLimit=float(clip), tileGridSize=(8, 8)).apply(image)
    Image.fromarray(out).save(f"{OUT}/clahe_expected_{clip}.png")
with open(f"{OUT}/VERSIONS-clahe.txt", "w") as f:
    f.write(f"opencv {cv2.__version__}, numpy {np.__version__}\n")
print("wrote CLAHE fixtures")
