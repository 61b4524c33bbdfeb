#!/usr/bin/env python3
"""Writes the small PNG/TIFF fixtures of Tests/ImageCoreTests/Fixtures with Pillow, an encoder
independent of sootctl's, so the readers are checked against files another program wrote.

Pattern (width 24, height 16): gray value v(r, c) = (16 r + 5 c) % 256; 16-bit: (v * 257 + r) mod 65536;
colour images carry v in the red channel and other values in green/blue; masks are the disk
(r - 8)^2 + (c - 11)^2 <= 36. Run from the repository root:  python3 tools/make_image_fixtures.py
Records the Pillow version in Fixtures/VERSIONS.txt.
"""
import os
import numpy as np
import PIL
from PIL import Image

OUT = "Tests/ImageCoreTests/Fixtures"
W, H = 24, 16
r, c = np.mgrid[0:H, 0:W]
gray = ((16 * r + 5 * c) % 256).astype(np.uint8)
gray16 = ((gray.astype(np.uint32) * 257 + r) % 65536).astype(np.uint16)
disk = ((r - 8) ** 2 + (c - 11) ** 2 <= 36)
rgb = np.stack([gray, 255 - gray, (gray // 2)], axis=-1).astype(np.uint8)

os.makedirs(OUT, exist_ok=True)
Image.fromarray(gray, "L").save(f"{OUT}/gray8.png")
Image.fromarray(gray16).save(f"{OUT}/gray16.png")
Image.fromarray(rgb, "RGB").save(f"{OUT}/rgb8.png")
rgba = np.concatenate([rgb, np.full((H, W, 1), 200, np.uint8)], axis=-1)
Image.fromarray(rgba, "RGBA").save(f"{OUT}/rgba8.png")
Image.fromarray(np.stack([gray, np.full((H, W), 255, np.uint8)], -1), "LA").save(f"{OUT}/gray_alpha8.png")
# Palette: 8 grey levels; index i maps to grey 36 i.
pal_index = (gray // 32).astype(np.uint8)
p = Image.fromarray(pal_index, "P")
p.putpalette(sum(([36 * i, 10, 250 - i] for i in range(8)), []) + [0, 0, 0] * 248)
p.save(f"{OUT}/palette.png")
Image.fromarray(disk).save(f"{OUT}/mask1.png")  # 1-bit

mask8 = (disk * 255).astype(np.uint8)
Image.fromarray(disk).save(f"{OUT}/mask_g4.tif", compression="group4")
Image.fromarray(disk).save(f"{OUT}/mask_g3.tif", compression="group3")
Image.fromarray(disk).save(f"{OUT}/mask_packbits1.tif", compression="packbits")
Image.fromarray(mask8, "L").save(f"{OUT}/mask8_packbits.tif", compression="packbits")
Image.fromarray(gray, "L").save(f"{OUT}/gray8_lzw.tif", compression="tiff_lzw")
Image.fromarray(gray, "L").save(f"{OUT}/gray8_deflate.tif", compression="tiff_adobe_deflate",
                                resolution=2e7, resolution_unit="cm")  # 0.5 nm/px
Image.fromarray(gray, "L").save(f"{OUT}/gray8_72dpi.tif", dpi=(72, 72))
Image.fromarray(gray16).save(f"{OUT}/gray16.tif")
Image.fromarray(rgb, "RGB").save(f"{OUT}/rgb8_lzw.tif", compression="tiff_lzw")
Image.fromarray(gray, "L").save(f"{OUT}/multipage.tif", save_all=True,
                                append_images=[Image.fromarray(255 - gray, "L")])
with open(f"{OUT}/VERSIONS.txt", "w") as f:
    f.write(f"Pillow {PIL.__version__}, numpy {np.__version__}\n")
print("wrote fixtures to", OUT)
