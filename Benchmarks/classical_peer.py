#!/usr/bin/env python3
"""The Python reference pipeline (as py-atems runs it) timed on one image.

py-atems is not packaged and cannot be fetched here, so this script re-creates its steps with
the same library calls it makes (OpenCV morphology and bilateral filter, scikit-image
entropy/labelling/skeleton/Canny/Hough, SciPy curve fitting and distance transforms,
scikit-learn k-means with n_init=10) to time them on the same image as sootbench. It is a
timing peer, written for this benchmark, not a copy of py-atems.

Usage: classical_peer.py IMAGE MASK PIXEL_SIZE_NM [--repeat N]  -> JSON on stdout
"""
import json
import statistics
import sys
import time

import cv2
import numpy as np
import scipy
import skimage
import sklearn
from PIL import Image
from scipy import ndimage
from scipy.optimize import curve_fit, least_squares
from skimage import filters, measure, morphology, segmentation
from skimage.feature import canny
from skimage.transform import hough_circle, hough_circle_peaks
from sklearn.cluster import KMeans


def background_subtraction(img):
    closed = cv2.morphologyEx(img, cv2.MORPH_CLOSE, morphology.disk(80))
    ys, xs = np.mgrid[0:img.shape[0], 0:img.shape[1]]

    def surface(xy, a, b, c, d, e, f):
        x, y = xy
        return a * x**2 + b * y**2 + c * x * y + d * x + e * y + f

    params, _ = curve_fit(surface, (xs.ravel(), ys.ravel()), closed.ravel().astype(float), p0=[1] * 6)
    fit = surface((xs, ys), *params)
    t = img + (fit.max() - fit)
    t = t - t.min()
    return np.round(255 * t / t.max()).astype(np.uint8)


def remove_small(binary, minimum):
    """Drops 8-connected components below `minimum` pixels (skimage 0.26 renamed the option)."""
    try:
        return morphology.remove_small_objects(binary, max_size=minimum - 1)
    except TypeError:
        return morphology.remove_small_objects(binary, minimum)


def rolling_ball_cnn(binary, ps, minimum):
    ds = round(3.2 / ps)
    out = cv2.morphologyEx(binary.astype(np.uint8), cv2.MORPH_CLOSE, morphology.disk(max(ds, 1)))
    out = cv2.morphologyEx(out, cv2.MORPH_OPEN, morphology.disk(max(ds - 1, 0)))
    return remove_small(out.astype(bool), minimum)


def kmeans_classifier(img, ps):
    q = max(round(4 / ps), 1)
    flat = background_subtraction(img)
    denoised = cv2.bilateralFilter(flat, d=15, sigmaColor=650, sigmaSpace=1)
    hat = cv2.morphologyEx(denoised, cv2.MORPH_BLACKHAT, morphology.disk(20))
    entropy = filters.rank.entropy(hat, np.ones((15, 15), np.uint8))
    entropy = (entropy / max(entropy.max(), 1e-12) * 255).astype(np.uint8)
    texture = cv2.morphologyEx(entropy, cv2.MORPH_CLOSE, morphology.disk(q))
    smooth = cv2.GaussianBlur(denoised, (0, 0), q, q)
    level = filters.threshold_otsu(smooth)
    seeds = smooth < level
    multipliers = np.arange(1, 1.35 + 1e-9, 0.002)
    counts = np.array([np.sum(smooth < level * m) for m in multipliers], float)
    p = np.polyfit(multipliers[:10], counts[:10], 1)
    dev = (counts - np.polyval(p, multipliers)) / (np.polyval(p, multipliers) + 2.2e-16)
    idx = np.where(dev > 0.1)[0]
    chosen = multipliers[idx[0]] if idx.size else multipliers[0]
    bt = cv2.morphologyEx((smooth < level * chosen).astype(np.uint8), cv2.MORPH_CLOSE, morphology.disk(q))
    labels = measure.label(bt)
    keep = np.unique(labels[seeds & (labels > 0)])
    adjusted = cv2.GaussianBlur((np.isin(labels, keep) * 255).astype(np.uint8), (0, 0), 15, 15)
    features = np.stack([texture, adjusted, denoised], axis=2).reshape(-1, 3).astype(np.float32)
    features = (features - features.mean(0)) / features.std(0)
    labels = KMeans(n_clusters=2, random_state=42, n_init=10).fit_predict(features).reshape(img.shape)
    dark = 0 if denoised[labels == 0].mean() < denoised[labels == 1].mean() else 1
    return rolling_ball_cnn(labels == dark, ps, 50)


def otsu_classifier(img, ps):
    flat = background_subtraction(img)
    denoised = cv2.bilateralFilter(flat, d=15, sigmaColor=650, sigmaSpace=1)
    background = denoised > filters.threshold_otsu(denoised)
    s = 4.9
    a, b, c, d, e = (0.3, 0.8, 0.5, 2.2, 3.5) if ps > 0.361 else (0.2, 0.3, 0.7, 1.1, 1.8)
    background = morphology.closing(background, morphology.disk(round(a * s / ps)))
    background = morphology.opening(background, morphology.disk(round(b * s / ps)))
    background = morphology.closing(background, morphology.disk(round(c * s / ps)))
    background = morphology.opening(background, morphology.disk(round(d * s / ps)))
    blobs = measure.label(~background)
    factor = 10 if blobs.max() > 50 else 1
    for region in measure.regionprops(blobs):
        if region.area * ps**2 <= (factor * e * s / ps) ** 2:
            background[blobs == region.label] = True
    return ~background


def analyze_binary(mask, img, ps):
    cleaned = remove_small(segmentation.clear_border(mask), 10)
    labels = measure.label(cleaned)
    aggregates = []
    for region in measure.regionprops(labels, intensity_image=img):
        single = labels == region.label
        perimeter = np.sum(single & ~ndimage.binary_erosion(single))
        aggregates.append(dict(
            label=region.label, area=region.area, da=2 * ps * np.sqrt(region.area / np.pi),
            rg=ps * np.sqrt(np.mean(np.sum((region.coords - region.centroid) ** 2, axis=1))),
            perimeter=ps * perimeter, bbox=region.bbox, mask=single))
    return labels, aggregates


def crop(a, margin=3):
    r0, c0, r1, c1 = a['bbox']
    r0, c0 = max(r0 - margin, 0), max(c0 - margin, 0)
    return a['mask'][r0:r1 + margin, c0:c1 + margin]


def pcm(aggregates, ps):
    out = []
    for a in aggregates:
        binary = crop(a)
        skel_y, skel_x = np.nonzero(morphology.skeletonize(binary))
        cols, rows = np.nonzero(binary.T)
        t = max(round(a['area'] / 6000), 1)
        d = np.sqrt((cols[::t, None] - skel_x) ** 2 + (rows[::t, None] - skel_y) ** 2)
        d = d[d > 0] * ps
        r = np.arange(1, int(d.max()) + 1)
        edges = np.append(r - 0.5, r[-1] + 0.5)
        pcf = np.histogram(d, edges)[0].astype(float)
        dmax = int(d.max() / ps)
        u, v = np.mgrid[-dmax:dmax + 1, -dmax:dmax + 1]
        inside = u**2 + v**2 <= dmax**2
        delta = np.sqrt((u[inside] + 6) ** 2 + (v[inside] + 6) ** 2) * ps
        den = np.histogram(delta[delta > 0], edges)[0] * len(skel_x) / t
        keep = pcf > 0
        s = pcf[keep] / np.where(den[keep] == 0, 1, den[keep])
        s = np.convolve(s, np.ones(5) / 5, 'same')
        for k in range(len(s) - 1):
            if s[k] <= s[k + 1]:
                s[k + 1] = s[k] - 1e-12
        s /= s.max()
        out.append(2 * np.interp(0.913, s[::-1], r[keep][::-1]))
    return out


def edm_sbs(aggregates, ps):
    grid = np.logspace(0, 2, 250)
    out = []
    for a in aggregates:
        e = ndimage.distance_transform_edt(crop(a))
        counts = np.array([np.sum(e > k) for k in range(151)], float)
        counts /= counts[0]
        sa = np.interp(grid, np.arange(151) * ps, counts, right=0)

        def model(x):
            return 0.9966 / (1 + np.exp(((np.log(x[0]) - np.log(grid)) / np.log(x[1]) - 1.9658) / -0.8515))

        out.append(least_squares(lambda x: (model(x) - sa) / 100, [25, 1.5],
                                 bounds=([1e-6, 1 + 1e-9], [np.inf, np.inf])).x[0])
    return out


def edm_ws(aggregates, ps):
    out = []
    for a in aggregates:
        binary = crop(a)
        e = ndimage.distance_transform_edt(binary)
        d = e.max() - e
        d2 = morphology.reconstruction(d + 1, d, method='erosion', footprint=morphology.diamond(1))
        labels = segmentation.watershed(d2, mask=binary, watershed_line=True)
        radii = ndimage.maximum(e, labels, index=np.arange(1, labels.max() + 1))
        out.append(np.exp(np.mean(np.log(2 * ps * radii[radii > 0]))))
    return out


def hough(img, labels, ps):
    j = np.maximum(255 - img.astype(int) - np.round(0.8 * img).astype(int), 0).astype(np.uint8)
    k = np.array([[-0.1, -0.9, -0.1], [-0.9, 5.1, -0.9], [-0.1, -0.9, -0.1]]) / 1.1
    sharp = np.clip(np.round(ndimage.correlate(j.astype(float), k, mode='constant')), 0, 255)
    edges = canny(sharp / 255, sigma=np.sqrt(2))
    radii = np.arange(16, 50)  # as py-atems: range(2 rmin, rmax), the 60 strongest peaks
    accum = hough_circle(edges, radii)
    _, cx, cy, r = hough_circle_peaks(accum, radii, total_num_peaks=60, min_xdistance=25, min_ydistance=25,
                                      normalize=True)
    sizes = {}
    for x, y, rr in zip(cx, cy, r):
        if labels[y, x] > 0:
            sizes.setdefault(labels[y, x], []).append(2 * rr * ps)
    return {k: np.exp(np.mean(np.log(v))) for k, v in sizes.items()}


def main():
    image_path, mask_path, ps = sys.argv[1], sys.argv[2], float(sys.argv[3])
    repeat = int(sys.argv[sys.argv.index('--repeat') + 1]) if '--repeat' in sys.argv else 1
    img = np.array(Image.open(image_path).convert('L'))
    truth = np.array(Image.open(mask_path)) > 0
    timings = []

    def measure_step(name, peer, fn):
        samples = []
        result = None
        for _ in range(repeat):
            start = time.perf_counter()
            result = fn()
            samples.append(time.perf_counter() - start)
        timings.append(dict(name=name, peer=peer, seconds=statistics.median(samples)))
        print(f'{name:34s} {timings[-1]["seconds"]:9.4f} s', file=sys.stderr)
        return result

    measure_step('background subtraction', 'OpenCV closing + SciPy curve_fit', lambda: background_subtraction(img))
    measure_step('otsu classifier', 'OpenCV + scikit-image', lambda: otsu_classifier(img, ps))
    measure_step('kmeans classifier', 'OpenCV + scikit-image + scikit-learn', lambda: kmeans_classifier(img, ps))
    labels, aggregates = measure_step('analyze binary (properties)', 'scikit-image regionprops',
                                      lambda: analyze_binary(truth, img, ps))
    measure_step('sizing pcm', 'NumPy (py-atems PCM)', lambda: pcm(aggregates, ps))
    measure_step('sizing edm-sbs', 'SciPy EDT + least_squares', lambda: edm_sbs(aggregates, ps))
    measure_step('sizing hough', 'scikit-image Canny + hough_circle', lambda: hough(img, labels, ps))
    measure_step('sizing edm-ws', 'scikit-image reconstruction + watershed', lambda: edm_ws(aggregates, ps))

    def whole():
        mask = kmeans_classifier(img, ps)
        lab, aggs = analyze_binary(mask, img, ps)
        pcm(aggs, ps), edm_sbs(aggs, ps), hough(img, lab, ps), edm_ws(aggs, ps)

    measure_step('analyze kmeans + all sizing', 'the above in sequence', whole)
    versions = dict(numpy=np.__version__, scipy=scipy.__version__, skimage=skimage.__version__,
                    opencv=cv2.__version__, sklearn=sklearn.__version__)
    json.dump(dict(versions=versions, timings=timings), sys.stdout, indent=1)


if __name__ == '__main__':
    main()
