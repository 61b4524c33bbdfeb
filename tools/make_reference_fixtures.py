#!/usr/bin/env python3
"""Reference results from scikit-image for ImageCore tests (written as small PNG fixtures).

thin_input_K.png / thin_expected_K.png: random blob masks and scikit-image's `thin`
(Guo-Hall as in MATLAB bwmorph 'thin', METHODS.md section 5.1). Run from the repository root;
records versions in Tests/ImageCoreTests/Fixtures/VERSIONS-reference.txt.
"""
import numpy as np
import skimage
from PIL import Image
from skimage.morphology import thin

OUT = "Tests/ImageCoreTests/Fixtures"
rng = np.random.default_rng(2026)
for k in range(3):
    h, w = 48, 64
    mask = np.zeros((h, w), bool)
    rr, cc = np.mgrid[0:h, 0:w]
    for _ in range(7):
        r0, c0, rad = rng.integers(0, h), rng.integers(0, w), rng.integers(3, 11)
        mask |= (rr - r0) ** 2 + (cc - c0) ** 2 <= rad ** 2
    Image.fromarray((mask * 255).astype(np.uint8)).save(f"{OUT}/thin_input_{k}.png")
    Image.fromarray((thin(mask) * 255).astype(np.uint8)).save(f"{OUT}/thin_expected_{k}.png")
with open(f"{OUT}/VERSIONS-reference.txt", "w") as f:
    f.write(f"scikit-image {skimage.__version__}, numpy {np.__version__}\n")
print("wrote thinning fixtures")
