#!/usr/bin/env python3
"""Docs/images/synthetic_vs_real.png: crops of the four shared real images (top) beside crops of
synthetic images from `sootctl synth` (bottom), same size and scale (0.4 nm/px, 640 x 480 crops).

Usage: python3 tools/make_synthetic_figure.py   (run from the repository root after building)
"""
import json
import subprocess
import tempfile

from PIL import Image

REAL = '../shared/data/real/images/'
crops_real = [('20180529_A9_003', 700, 800), ('201805A_A6_004', 400, 900), ('Case1_E7_025', 1300, 250),
              ('RU_FI_A10_004', 900, 700)]
out = Image.new('L', (4 * 640 + 30, 2 * 480 + 10), 255)
for k, (stem, x, y) in enumerate(crops_real):
    out.paste(Image.open(REAL + stem + '.png').convert('L').crop((x, y, x + 640, y + 480)), (k * 650, 0))
with tempfile.TemporaryDirectory() as d:
    subprocess.run(['.build/release/sootctl', 'synth', '--count', '4', '--seed', '2026', '--out', d], check=True)
    for k in range(4):
        name = 'synth_2026_%04d' % k
        truth = json.load(open(f'{d}/truth/{name}.json'))
        inner = [a for a in truth['aggregates'] if not a['touches_border']] or truth['aggregates']
        a = max(inner, key=lambda a: a['area_px'])
        x = int(min(max(a['centroid_x_px'] - 320, 0), 2240 - 640))
        y = int(min(max(a['centroid_y_px'] - 240, 0), 1952 - 480))
        out.paste(Image.open(f'{d}/images/{name}.png').crop((x, y, x + 640, y + 480)), (k * 650, 490))
out.save('Docs/images/synthetic_vs_real.png', optimize=True)
print('wrote Docs/images/synthetic_vs_real.png')
