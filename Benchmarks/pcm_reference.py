"""PCM on the shared real masks by an independent port of atems `+pp/pcm.m` (v1.s, METHODS.md 5.1),
at each image's own resolution, against sootctl's PCM (which runs on mask crops resampled to
0.8 nm/px) and the locating methods, per image (geometric mean over the aggregates).

Also the mask's own width: twice the median distance-to-background over the skeleton (2 x EDT on
the thinned mask), the chain width PCM's 0.913 level is meant to read (for a straight band of width
w the simple PCM gives 1.01 w).

    bash Benchmarks/primaries_real.sh          # writes bench-out/primaries-real/all/aggregates.csv
    python3 Benchmarks/pcm_reference.py [bench-out/primaries-real/all/aggregates.csv]

    sootctl synth --out DIR --count 3 --seed 9100 --aggregates 4-8 --primaries 10-120
    python3 Benchmarks/pcm_reference.py --synthetic DIR   # the same on synthetic truth masks
    python3 Benchmarks/pcm_reference.py --synthetic DIR --rough 0.7 2
        # with the outlines roughened: a smooth random field (std AMP px, Gaussian correlation
        # CORR px, seed 1) added to the signed distance to the outline; the largest piece kept

Both modes also count the skeleton's end points per 100 nm of outline (spurs, which rough
outlines add and which pull PCM down).


Needs numpy, scipy, scikit-image and tifffile (pip). Aggregates are matched to sootctl's rows by
pixel count and centroid (8-connected components of the hand-made mask).
"""
import csv
import math
import sys
from collections import defaultdict

import numpy as np
import tifffile
from scipy.ndimage import convolve, distance_transform_edt, gaussian_filter
from skimage.measure import label, perimeter, regionprops
from skimage.morphology import thin

REAL = "../shared/data/real"


def smooth5(y):
    out = y.copy()
    n = len(y)
    for i in range(n):
        k = min(2, i, n - 1 - i)
        out[i] = y[i - k:i + k + 1].mean()
    return out


def pcm_simple(bw, ps):
    """atems pcm.m, simple PCM, denominator offset (-6, -6) px as in the reference code."""
    skel = thin(bw)
    ys, xs = np.nonzero(skel)
    cols, rows = np.nonzero(bw.T)  # column-major order (MATLAB find)
    t = max(int(round(len(rows) / 6000)), 1)
    x, y = cols[::t].astype(float), rows[::t].astype(float)
    d = np.sqrt((x[:, None] - xs[None, :]) ** 2 + (y[:, None] - ys[None, :]) ** 2).ravel()
    d = d[d != 0]
    d_max = float(np.round(d.max()))
    r = np.arange(1, int(np.floor(d_max * ps)) + 1)
    if len(r) < 2:
        return float("nan")
    edges = np.concatenate([r - 0.5, [r[-1] + 0.5]])
    pcf, _ = np.histogram(d * ps, edges)
    keep = pcf != 0
    pcf, r1 = pcf[keep].astype(float), r[keep]
    reach = int(d_max)
    u, v = np.mgrid[-reach:reach + 1, -reach:reach + 1]
    inside = u * u + v * v <= d_max * d_max
    dd = np.sqrt((u[inside] + 6.0) ** 2 + (v[inside] + 6.0) ** 2)
    dd = dd[dd > 0] * ps
    den, _ = np.histogram(dd, edges)
    den = den[keep] * len(xs) / t
    den[den == 0] = 1
    s = smooth5(pcf / den)
    for k in range(len(s) - 1):
        if s[k] <= s[k + 1]:
            s[k + 1] = s[k] - 1e-12
    s = s / s.max()
    if not (s[-1] <= 0.913 <= s[0]):
        return float("nan")
    return 2 * float(np.interp(0.913, s[::-1], r1[::-1]))


def skeleton_ends(bw):
    """End points of the thinned mask (skeleton pixels with one 8-neighbour) and the outline's length in px."""
    skel = thin(bw)
    neighbours = convolve(skel.astype(int), np.ones((3, 3), int), mode="constant") - skel
    return int((skel & (neighbours == 1)).sum()), float(perimeter(bw))


def roughen(mask, amp, corr, rng):
    """The mask with its outline moved by a smooth random field of std `amp` px."""
    signed = distance_transform_edt(mask) - distance_transform_edt(~mask)
    field = gaussian_filter(rng.standard_normal(mask.shape), corr)
    return signed + field * (amp / field.std()) > 0


def gm(values):
    v = [x for x in values if x == x and x > 0]
    return math.exp(sum(map(math.log, v)) / len(v)) if v else float("nan")


def synthetic(folder, ps=0.4, rough=None):
    """PCM, the mask's width and the true dp on synthetic truth masks (aggregates clear of the
    border, at least 1,000 px), with the outlines roughened when `rough` = (amp, corr) px."""
    import glob
    import json
    import imageio.v3 as iio
    rng = np.random.default_rng(1)
    pcm, width, true, ends, outline = [], [], [], 0, 0.0
    for truth_path in sorted(glob.glob(folder + "/truth/*.json")):
        truth = json.load(open(truth_path))
        mask = iio.imread(truth_path.replace("/truth/", "/masks/").replace(".json", ".png")) > 0
        if mask.ndim == 3:
            mask = mask[..., 0]
        shown = roughen(mask, *rough, rng) if rough else mask
        labels = label(mask, connectivity=2)
        regions = regionprops(labels)
        for a in truth["aggregates"]:
            if a["touches_border"] or a["area_px"] < 1000:
                continue
            match = [q for q in regions if abs(q.centroid[0] - a["centroid_y_px"]) < 2 and abs(q.centroid[1] - a["centroid_x_px"]) < 2]
            if len(match) != 1:
                continue
            r0, c0, r1, c1 = match[0].bbox
            if rough:  # the roughened aggregate: the largest piece in its box, with a margin
                r0, c0 = max(r0 - 10, 0), max(c0 - 10, 0)
                r1, c1 = min(r1 + 10, mask.shape[0]), min(c1 + 10, mask.shape[1])
                pieces = label(shown[r0:r1, c0:c1], connectivity=2)
                if pieces.max() == 0:
                    continue
                crop = pieces == np.argmax(np.bincount(pieces.ravel())[1:]) + 1
            else:
                crop = labels[r0:r1, c0:c1] == match[0].label
            pcm.append(pcm_simple(crop, ps))
            width.append(2 * float(np.median(distance_transform_edt(crop)[thin(crop)])) * ps)
            true.append(a["dp_geometric_mean_nm"])
            e, p = skeleton_ends(crop)
            ends, outline = ends + e, outline + p * ps
    print(f"{len(pcm)} aggregates: PCM {gm(pcm):.1f} nm, 2 x median EDT on the skeleton {gm(width):.1f} nm, "
          f"true dp {gm(true):.1f} nm; PCM / width {gm(pcm) / gm(width):.2f}, PCM / true {gm(pcm) / gm(true):.2f}; "
          f"skeleton ends {100 * ends / outline:.2f} per 100 nm of outline")


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--synthetic":
        rough = (float(sys.argv[4]), float(sys.argv[5])) if len(sys.argv) > 5 and sys.argv[3] == "--rough" else None
        return synthetic(sys.argv[2], rough=rough)
    path = sys.argv[1] if len(sys.argv) > 1 else "bench-out/primaries-real/all/aggregates.csv"
    rows = list(csv.DictReader(open(path)))
    sizes = {r["stem"]: float(r["pixel_size_nm"]) for r in csv.DictReader(open("Benchmarks/real_pixel_sizes.csv"))}
    by_image = defaultdict(list)
    for r in rows:
        by_image[r["image"]].append(r)
    table = defaultdict(lambda: defaultdict(list))
    for image, mine in sorted(by_image.items()):
        ps = sizes[image]
        mask = tifffile.imread(f"{REAL}/masks/{image}.tif") > 0
        if mask.mean() > 0.5:  # WhiteIsZero files read as stored
            mask = ~mask
        labels = label(mask, connectivity=2)
        regions = regionprops(labels)
        for r in mine:
            area, cy = int(r["area_px"]), float(r["centroid_y_px"])
            match = [q for q in regions if abs(q.area - area) <= max(5, 0.01 * q.area) and abs(q.centroid[0] - cy) < 3]
            if len(match) != 1:
                print(f"{image} aggregate {r['id']}: {len(match)} matching components, skipped", file=sys.stderr)
                continue
            a, b, c, d = match[0].bbox
            crop = labels[a:c, b:d] == match[0].label
            width = 2 * float(np.median(distance_transform_edt(crop)[thin(crop)])) * ps
            e, p = skeleton_ends(crop)
            table[image]["ends"].append(e); table[image]["outline_nm"].append(p * ps)
            table["all images"]["ends"].append(e); table["all images"]["outline_nm"].append(p * ps)
            for key, value in (("reference", pcm_simple(crop, ps)), ("width", width),
                               ("sootctl", float(r["dp_pcm_nm"] or "nan")),
                               ("detector", float(r["dp_cnn_primaries_nm"] or "nan")),
                               ("hough", float(r["dp_hough_nm"] or "nan"))):
                table[image][key].append(value)
                table["all images"][key].append(value)
    print("| image | aggregates | PCM, reference port at the image's resolution (nm) | PCM, sootctl (nm) "
          "| 2 x median EDT on the skeleton (nm) | cnn-primaries (nm) | Hough (nm) | skeleton ends per 100 nm of outline |")
    print("|---|---|---|---|---|---|---|---|")
    for image in sorted(k for k in table if k != "all images") + ["all images"]:
        t = table[image]
        print(f"| {image} | {len(t['sootctl'])} | {gm(t['reference']):.1f} | {gm(t['sootctl']):.1f} | "
              f"{gm(t['width']):.1f} | {gm(t['detector']):.1f} | {gm(t['hough']):.1f} | "
              f"{100 * sum(t['ends']) / sum(t['outline_nm']):.2f} |")


if __name__ == "__main__":
    main()
