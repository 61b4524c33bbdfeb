"""Writes tws_features.json: TWSFeatures' 67 features of a small image by scikit-image and
SciPy (the reference for Tests/ClassifiersTests/TWSFeatureTests.swift).

    pip install scikit-image scipy && python3 make_tws_features.py

scikit-image 0.26, SciPy 1.x: Gaussian blur `skimage.filters.gaussian(mode='nearest',
truncate=4)`; Sobel `skimage.filters.sobel` x 4 sqrt(2) (scikit-image normalises the kernel by
4 and the magnitude by sqrt(2)); Hessian `skimage.feature.hessian_matrix(order='rc',
use_gaussian_derivatives=False, mode='nearest')` and `hessian_matrix_eigvals`; membrane
projections `scipy.ndimage.correlate(mode='nearest')` with the 30 rotated line kernels.
"""
import json
import math

import numpy as np
import scipy.ndimage as ndi
import skimage
import skimage.feature
import skimage.filters

W, H = 20, 16
SIGMAS = [1, 2, 4, 8, 16]


def test_image():
    r, c = np.mgrid[0:H, 0:W].astype(np.float64)
    # A dark blob, a bright line and a ramp: every feature sees structure.
    image = 0.7 - 0.01 * c + 0.005 * r
    image -= 0.4 * np.exp(-((r - 7) ** 2 + (c - 6) ** 2) / 8.0)
    image[:, 14] += 0.2
    return np.round(image * 255) / 255  # 8-bit values, as images are read


def membrane_kernels(size=19, angles=30):
    """TWSFeatures.membraneKernel: an anti-aliased line, weight max(0, 1 - distance)."""
    half = size // 2
    dr, dc = np.mgrid[-half:half + 1, -half:half + 1].astype(np.float64)
    kernels = []
    for k in range(angles):
        angle = k * math.pi / angles
        along = dr * math.cos(angle) + dc * math.sin(angle)
        distance = np.abs(dr * math.sin(angle) - dc * math.cos(angle))
        kernel = np.where((np.abs(along) <= half + 1e-6) & (distance < 1), 1 - distance, 0.0)
        kernels.append(kernel / kernel.sum())
    return kernels


def features(image):
    planes = {"original": image}
    blurred = {s: skimage.filters.gaussian(image, sigma=s, mode="nearest", truncate=4.0, preserve_range=True) for s in SIGMAS}
    for s in SIGMAS:
        planes[f"gaussian_{s}"] = blurred[s]
    for s in SIGMAS:
        planes[f"sobel_{s}"] = skimage.filters.sobel(blurred[s]) * 4 * math.sqrt(2)
    for s in SIGMAS:
        hrr, hrc, hcc = skimage.feature.hessian_matrix(image, sigma=s, mode="nearest", order="rc", use_gaussian_derivatives=False)
        e1, e2 = skimage.feature.hessian_matrix_eigvals([hrr, hrc, hcc])
        a, b, d = hcc, hrc, hrr
        t = s ** 0.75
        planes[f"hessian_module_{s}"] = np.sqrt(a * a + b * b + d * d)
        planes[f"hessian_trace_{s}"] = a + d
        planes[f"hessian_determinant_{s}"] = a * d - b * b
        planes[f"hessian_eigenvalue_1_{s}"] = e1
        planes[f"hessian_eigenvalue_2_{s}"] = e2
        planes[f"hessian_orientation_{s}"] = 0.5 * np.arctan2(2 * b, a - d)
        planes[f"hessian_gamma_square_eigen_difference_{s}"] = t ** 4 * (e1 - e2) ** 2
        planes[f"hessian_square_gamma_eigen_difference_{s}"] = t ** 2 * (e1 - e2) ** 2
    for i, a in enumerate(SIGMAS):
        for b in SIGMAS[i + 1:]:
            planes[f"dog_{b}_{a}"] = blurred[b] - blurred[a]
    responses = np.stack([ndi.correlate(image, k, mode="nearest") for k in membrane_kernels()])
    planes["membrane_sum"] = responses.sum(0)
    planes["membrane_mean"] = responses.mean(0)
    planes["membrane_std"] = responses.std(0)
    planes["membrane_median"] = np.median(responses, 0)
    planes["membrane_max"] = responses.max(0)
    planes["membrane_min"] = responses.min(0)
    return planes


image = test_image()
out = {
    "generator": f"make_tws_features.py, scikit-image {skimage.__version__}, numpy {np.__version__}",
    "width": W, "height": H,
    "image": [round(float(v), 9) for v in image.ravel()],
    "features": {name: [float(f"{v:.8g}") for v in plane.ravel()] for name, plane in features(image).items()},
}
with open("tws_features.json", "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"wrote tws_features.json: {len(out['features'])} features of a {W} x {H} image")
