# Expected modes and KL(histogram || uniform) of n images drawn from
# Stacked MNIST's modes by a perfect labeller: the numbers quoted in
# stacked_test.go's TestStackedScoreReal and docs/RESULTS-encoders.md.
# Run with Debian's python3-numpy: /usr/bin/python3 gen_stacked_expect.py
import numpy as np

# MNIST training digit counts, 0..9.
counts = np.array([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
p = counts / counts.sum()
kl_digit = (p * np.log(10 * p)).sum()
print(f"KL(digit freq || uniform 10) = {kl_digit:.5f}, x3 = {3 * kl_digit:.5f}")
modes = np.einsum("i,j,k->ijk", p, p, p).ravel()  # mode 100*d1+10*d2+d3
rng = np.random.default_rng(0)
for n in (4000, 10000, 26000):
    found, kls = [], []
    for _ in range(2000):
        h = np.bincount(rng.choice(1000, n, p=modes), minlength=1000)
        q = h[h > 0] / n
        found.append((h > 0).sum())
        kls.append((q * np.log(q * 1000)).sum())
    print(f"n={n}: modes {np.mean(found):.1f} (sd {np.std(found):.1f}), KL {np.mean(kls):.4f} (sd {np.std(kls):.4f})")
