#!/usr/bin/env python3
"""Times the Python peers of sootbench's ImageCore primitives on the same image.

Peers: what py-atems and scikit-image users run (scikit-image, SciPy, OpenCV, Pillow), with
the same parameters as sootbench where the libraries allow. Prints one JSON list of
{name, seconds, peer}. Usage: imagecore_peer.py IMAGE [--repeat N]
"""
import json
import sys
import time

import numpy as np
from PIL import Image
import scipy.ndimage as ndi
import skimage
from skimage import filters, measure, morphology, segmentation, transform
from skimage.filters import rank

try:
    import cv2
    cv2.setNumThreads(2)
except ImportError:  # OpenCV is optional
    cv2 = None


def timed(fn, repeat):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    path = sys.argv[1]
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    img8 = np.array(Image.open(path).convert("L"))
    img = img8.astype(np.float32) / 255
    level = filters.threshold_otsu(img8)
    mask = img8 <= level
    labels = measure.label(mask, connectivity=2)
    disk80 = morphology.disk(80)
    disk20 = morphology.disk(20)
    edm = ndi.distance_transform_edt(mask)
    out = []

    def add(name, peer, fn):
        out.append({"name": name, "peer": peer, "seconds": timed(fn, repeat)})

    add("png read", "Pillow", lambda: np.array(Image.open(path)))
    add("otsu threshold", "skimage.filters.threshold_otsu", lambda: filters.threshold_otsu(img8))
    add("gaussian sigma 4", "scipy.ndimage.gaussian_filter", lambda: ndi.gaussian_filter(img, 4, truncate=2.0))
    if cv2 is not None:
        add("bilateral 5x5", "cv2.bilateralFilter", lambda: cv2.bilateralFilter(img, 5, 0.1, 1.0))
    add("local entropy 15x15", "skimage.filters.rank.entropy", lambda: rank.entropy(img8, np.ones((15, 15), bool)))
    add("resize area 1/2", "skimage.transform.downscale_local_mean",
        lambda: transform.downscale_local_mean(img, (2, 2)))
    if cv2 is not None:
        add("gray closing disk r80", "cv2.morphologyEx", lambda: cv2.morphologyEx(
            img, cv2.MORPH_CLOSE, disk80.astype(np.uint8), borderType=cv2.BORDER_REPLICATE))
    add("gray bottom-hat disk r20", "skimage.morphology.black_tophat", lambda: morphology.black_tophat(img8, disk20))
    add("binary closing disk r20", "scipy.ndimage.binary_closing", lambda: ndi.binary_closing(mask, disk20))
    add("euclidean distance transform", "scipy.ndimage.distance_transform_edt",
        lambda: ndi.distance_transform_edt(~mask))
    add("label 8-connected", "skimage.measure.label", lambda: measure.label(mask, connectivity=2))
    add("region properties", "skimage.measure.regionprops (area, centroid, bbox, perimeter, moments)",
        lambda: [(p.area, p.centroid, p.bbox, p.perimeter, p.moments_central) for p in measure.regionprops(labels)])
    add("thin to skeleton", "skimage.morphology.thin", lambda: morphology.thin(mask))
    add("watershed of distance map", "skimage.segmentation.watershed",
        lambda: segmentation.watershed(-edm, mask=mask, watershed_line=True))

    def surface():
        h, w = img.shape
        y, x = np.mgrid[0:h, 0:w]
        a = np.stack([np.ones(h * w), x.ravel(), y.ravel(), x.ravel() ** 2, (x * y).ravel(), y.ravel() ** 2], 1)
        np.linalg.lstsq(a, img.ravel().astype(np.float64), rcond=None)
    add("quadratic surface fit (LAPACK)", "numpy.linalg.lstsq", surface)
    print(json.dumps({"versions": {"numpy": np.__version__, "scipy": __import__("scipy").__version__,
                                   "scikit-image": skimage.__version__,
                                   "opencv": cv2.__version__ if cv2 else None},
                      "timings": out}))


if __name__ == "__main__":
    main()
