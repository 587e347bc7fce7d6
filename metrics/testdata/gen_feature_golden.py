#!/usr/bin/python3
"""Generate golden values for metrics/feature_golden_test.go.

Run from the repository root with Debian's NumPy and SciPy
(apt-get install -y python3-scipy):

    /usr/bin/python3 metrics/testdata/gen_feature_golden.py

It writes, next to this script:
  feat_real.bin, feat_fake.bin, feat_lowrank.bin   features [300, 16]
  probs.bin                                        class probabilities [300, 10]
  each as little-endian row-major float32 with a JSON sidecar (NAME.json:
  {"shape": [...], "dtype": "float32", "byteorder": "little"}),
  feature_golden.json                              expected values and KID subsets.

Reference implementations follow the papers and the authors' public code:
  FID: pytorch-fid's calculate_frechet_distance (scipy.linalg.sqrtm of
       S1 @ S2, real part), numpy.cov (unbiased).
  KID: unbiased MMD^2 with k(x, y) = (x.y/d + 1)^3 (Binkowski et al. 2018,
       arXiv:1801.01401), on the subset indices written to the JSON.
  IS:  exp(mean KL(p(y|x) || p(y))) over 10 consecutive splits
       (Salimans et al. 2016), 0 log 0 = 0, numpy std (ddof 0).
  PRDC: improved precision/recall (Kynkaanniemi et al. 2019,
       arXiv:1904.06991, <=, k = 3) and density/coverage (Naeem et al. 2020,
       arXiv:2002.09797, <, k = 5) from float64 scipy cdist distances.
All computation is in float64 on the float32 values as stored.
"""
import json
import os

import numpy as np
import scipy
import scipy.linalg
import scipy.spatial.distance
import scipy.special

HERE = os.path.dirname(os.path.abspath(__file__))
N, D, K = 300, 16, 10


def save(name, a):
    a = np.ascontiguousarray(a, dtype="<f4")
    a.tofile(os.path.join(HERE, name + ".bin"))
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump({"shape": list(a.shape), "dtype": "float32", "byteorder": "little"}, f)
        f.write("\n")
    return a.astype(np.float64)


def fid(x, y):
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def mmd2_poly(x, y):
    m, d = x.shape
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    return float((kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.sum() / (m * m))


def inception_score(p, splits=10):
    n = p.shape[0]
    scores = []
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]
        py = part.mean(0, keepdims=True)
        kl = scipy.special.rel_entr(part, py).sum(1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def kth_nn(x, k):
    # k-th nearest other point: column k of the sorted distances, column 0
    # being the point itself at distance 0.
    dist = scipy.spatial.distance.cdist(x, x)
    np.fill_diagonal(dist, 0.0)
    return np.sort(dist, axis=1)[:, k]


def prdc(real, fake, k_pr=3, k_dc=5):
    d_rf = scipy.spatial.distance.cdist(real, fake)  # [n_real, n_fake]
    r_pr, r_dc, f_pr = kth_nn(real, k_pr), kth_nn(real, k_dc), kth_nn(fake, k_pr)
    precision = (d_rf <= r_pr[:, None]).any(axis=0).mean()
    recall = (d_rf <= f_pr[None, :]).any(axis=1).mean()
    density = (d_rf < r_dc[:, None]).sum(axis=0).mean() / k_dc
    coverage = (d_rf.min(axis=1) < r_dc).mean()
    return {"precision": float(precision), "recall": float(recall),
            "density": float(density), "coverage": float(coverage)}


def main():
    rng = np.random.default_rng(20240611)
    a = rng.normal(size=(D, D)) / np.sqrt(D)
    b = rng.normal(size=(D, D)) / np.sqrt(D)
    real = save("feat_real", rng.normal(size=(N, D)) @ a + 0.5)
    fake = save("feat_fake", rng.normal(size=(N, D)) @ (0.8 * a + 0.4 * b) + 0.7)
    lowrank = save("feat_lowrank", rng.normal(size=(N, 4)) @ rng.normal(size=(4, D)) + 1e-3 * rng.normal(size=(N, D)))

    logits = rng.normal(size=(N, K)) * rng.uniform(0.2, 4.0, size=(N, 1))
    p = scipy.special.softmax(logits, axis=1)
    p[::37] = np.eye(K)[rng.integers(0, K, size=p[::37].shape[0])]  # exact zeros: 0 log 0 = 0
    probs = save("probs", p)

    subsets, size = 10, 100
    real_idx = [rng.choice(N, size, replace=False).tolist() for _ in range(subsets)]
    fake_idx = [rng.choice(200, size, replace=False).tolist() for _ in range(subsets)]
    mmds = [mmd2_poly(real[ri], fake[fi]) for ri, fi in zip(real_idx, fake_idx)]

    is_mean, is_std = inception_score(probs)
    golden = {
        "generator": "gen_feature_golden.py, numpy %s, scipy %s" % (np.__version__, scipy.__version__),
        "real_mean": real.mean(0).tolist(),
        "real_cov": np.cov(real, rowvar=False).ravel().tolist(),
        "fid_real_fake": fid(real, fake),
        "fid_real_lowrank": fid(real, lowrank),
        "fid_lowrank_fake": fid(lowrank, fake),
        "kid_real_idx": real_idx,
        "kid_fake_idx": fake_idx,
        "kid_fake_rows": 200,
        "kid_subset_mmd2": mmds,
        "kid_mean": float(np.mean(mmds)),
        "kid_std": float(np.std(mmds)),
        "kid_full_set": mmd2_poly(real, fake),
        "is_mean": is_mean,
        "is_std": is_std,
        "prdc_real_fake": prdc(real, fake),
        "prdc_real_fake200": prdc(real, fake[:200]),
        "prdc_fake_real": prdc(fake, real),
    }
    with open(os.path.join(HERE, "feature_golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
