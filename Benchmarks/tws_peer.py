#!/usr/bin/env python3
"""The Python peer of sootctl's TWS classifier: the same steps with scikit-image, SciPy,
OpenCV and scikit-learn, timed on the same image and training set as `sootbench tws`.

Steps (as TWSSegmenter and TWSFeatures do them): the image area-averaged to 1.6 nm/px
(`skimage.transform.downscale_local_mean`), flattened by its background (grey closing with a
32 nm disk, `cv2.morphologyEx`; Gaussian of 64 nm, `skimage.filters.gaussian`), the 67
features (`skimage.filters.gaussian`/`sobel`, `skimage.feature.hessian_matrix` and
`hessian_matrix_eigvals`, differences of Gaussians, membrane projections by 30
`cv2.filter2D` line kernels), a balanced sample of 20,000 px per class per training image,
`sklearn.ensemble.RandomForestClassifier(n_estimators=100, max_features='sqrt', n_jobs=2)`
and `predict_proba`. The fastest library call is used for each step (OpenCV where
scikit-image is slow), so the peer is a fair one. A timing peer written for this benchmark.

Usage: tws_peer.py IMAGE PIXEL_SIZE_NM DATA_DIR PIXEL_SIZES_CSV [--repeat N] [--trees N]  -> JSON on stdout
"""
import csv
import json
import math
import os
import statistics
import sys
import time

import cv2
import numpy as np
import scipy
import skimage
import sklearn
from PIL import Image
from skimage.feature import hessian_matrix, hessian_matrix_eigvals
from skimage.filters import gaussian, sobel
from skimage.transform import downscale_local_mean, resize
from sklearn.ensemble import RandomForestClassifier

WORKING_NM = 1.6
SIGMAS = [1, 2, 4, 8, 16]


def read_gray(path):
    return np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255


def working(image, ps):
    factor = WORKING_NM / ps
    if abs(factor - round(factor)) < 1e-6 and factor >= 1:
        small = downscale_local_mean(image, (int(round(factor)), int(round(factor)))).astype(np.float32)
    else:
        small = resize(image, (round(image.shape[0] / factor), round(image.shape[1] / factor)), anti_aliasing=True).astype(np.float32)
    radius = max(round(32 / WORKING_NM), 1)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, disk, borderType=cv2.BORDER_REPLICATE)
    background = gaussian(closed, sigma=64 / WORKING_NM, mode="nearest", truncate=4.0, preserve_range=True)
    return np.clip(small / np.maximum(background, 1e-3) * 0.65, 0, 1).astype(np.float32)


def membrane_kernels(size=19, angles=30):
    half = size // 2
    dr, dc = np.mgrid[-half:half + 1, -half:half + 1].astype(np.float64)
    out = []
    for k in range(angles):
        a = k * math.pi / angles
        along = dr * math.cos(a) + dc * math.sin(a)
        distance = np.abs(dr * math.sin(a) - dc * math.cos(a))
        kernel = np.where((np.abs(along) <= half + 1e-6) & (distance < 1), 1 - distance, 0.0)
        out.append((kernel / kernel.sum()).astype(np.float32))
    return out


KERNELS = membrane_kernels()


def features(image):
    planes = [image]
    blurred = [gaussian(image, sigma=s, mode="nearest", truncate=4.0, preserve_range=True).astype(np.float32) for s in SIGMAS]
    planes += blurred
    planes += [sobel(g) for g in blurred]
    for s, g in zip(SIGMAS, blurred):
        # hessian_matrix blurs again; give it the blurred image with a tiny sigma instead.
        grads = np.gradient(g)
        hrr, hrc, hcc = np.gradient(grads[0], axis=0), np.gradient(grads[0], axis=1), np.gradient(grads[1], axis=1)
        e1, e2 = hessian_matrix_eigvals([hrr, hrc, hcc])
        t = s ** 0.75
        planes += [np.sqrt(hcc ** 2 + hrc ** 2 + hrr ** 2), hcc + hrr, hcc * hrr - hrc ** 2, e1, e2,
                   0.5 * np.arctan2(2 * hrc, hcc - hrr), t ** 4 * (e1 - e2) ** 2, t ** 2 * (e1 - e2) ** 2]
    for i in range(len(SIGMAS)):
        for j in range(i + 1, len(SIGMAS)):
            planes.append(blurred[j] - blurred[i])
    responses = np.stack([cv2.filter2D(image, -1, k, borderType=cv2.BORDER_REPLICATE) for k in KERNELS])
    planes += [responses.sum(0), responses.mean(0), responses.std(0), np.median(responses, 0), responses.max(0), responses.min(0)]
    return np.stack([p.astype(np.float32) for p in planes], axis=-1).reshape(-1, len(planes))


def training_sample(folder, table, per_class, seed=1):
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for name in sorted(os.listdir(os.path.join(folder, "images"))):
        stem = os.path.splitext(name)[0]
        image = read_gray(os.path.join(folder, "images", name))
        mask_path = next(os.path.join(folder, "masks", stem + e) for e in (".tif", ".tiff", ".png")
                         if os.path.exists(os.path.join(folder, "masks", stem + e)))
        mask = np.asarray(Image.open(mask_path).convert("L")) > 0
        small = working(image, table[stem])
        m = resize(mask.astype(np.float32), small.shape, order=1, anti_aliasing=False) > 0.5
        f = features(small)
        for label in (0, 1):
            idx = np.flatnonzero(m.ravel() == bool(label))
            take = rng.choice(idx, size=min(per_class, idx.size), replace=False)
            rows.append(f[take])
            labels.append(np.full(take.size, label, dtype=np.uint8))
    return np.concatenate(rows), np.concatenate(labels)


def timed(name, peer, repeat, fn):
    samples, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t)
    print(f"{name:34s} {statistics.median(samples):9.4f} s  ({peer})", file=sys.stderr)
    return {"name": name, "peer": peer, "seconds": statistics.median(samples)}, result


def main():
    image_path, ps, folder, table_path = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    trees = int(sys.argv[sys.argv.index("--trees") + 1]) if "--trees" in sys.argv else 100
    with open(table_path) as f:
        table = {r["stem"]: float(r["pixel_size_nm"]) for r in csv.DictReader(f)}
    image = read_gray(image_path)
    timings = []
    t, (rows, labels) = timed("tws training sample (features)", "skimage + cv2 features", 1,
                              lambda: training_sample(folder, table, 20000))
    timings.append(t)
    forest = RandomForestClassifier(n_estimators=trees, max_features="sqrt", n_jobs=2, random_state=1)
    t, _ = timed("tws forest training", "sklearn RandomForestClassifier.fit", 1, lambda: forest.fit(rows, labels))
    timings.append(t)
    t, small = timed("tws working image", "downscale_local_mean + cv2 closing + gaussian", repeat, lambda: working(image, ps))
    timings.append(t)
    t, f = timed("tws features", "skimage + cv2 (67 features)", repeat, lambda: features(small))
    timings.append(t)
    t, _ = timed("tws prediction", "sklearn predict_proba", repeat, lambda: forest.predict_proba(f))
    timings.append(t)

    def whole():
        s = working(image, ps)
        p = forest.predict_proba(features(s))[:, 1].reshape(s.shape).astype(np.float32)
        return cv2.resize(p, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR) > 0.5

    t, _ = timed("tws segment (whole)", "all of the above", repeat, whole)
    timings.append(t)
    versions = {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__,
                "scikit-image": skimage.__version__, "scikit-learn": sklearn.__version__, "opencv": cv2.__version__}
    json.dump({"versions": versions, "timings": timings}, sys.stdout)


if __name__ == "__main__":
    main()
