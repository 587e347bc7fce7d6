"""A second labeller for Stacked MNIST, shaped as PacGAN's.

PacGAN's Stacked MNIST code (github.com/fjxmlzn/PacGAN, train_mnist.py and
model.py's log_metrics) labels each channel with Keras's mnist_cnn demo:
conv 32 3x3 ReLU, conv 64 3x3 ReLU, max pool 2, dropout 0.25, dense 128
ReLU, dropout 0.5, dense 10, trained 20 epochs by Adadelta (rate 1.0, rho
0.95, eps 1e-7) at batch 128 on MNIST's 60000 training digits in [0, 1].
This is the same network and recipe in PyTorch, trained here (their
weights are not published), so that samples can be read by a labeller other
than Kallima's feature network. It is a measurement tool for
docs/RESULTS-encoders.md, not part of the CI (it needs Debian's
python3-torch):

    python3 bench/stacked_labeller.py train OUT.pt [SEED]
    kallima sample RUN -n 26000 -out s.npy          # or kallima data export stacked-mnist -out s.npy
    python3 bench/stacked_labeller.py score OUT.pt s.npy ...

score prints, per file of uint8 [N, 3, 28, 28] images, the modes found of
1000, KL(p || uniform) in nats as PacGAN's code computes it, each channel's
KL against uniform digits, the mean top probability and the share of
channels read below 0.9.
"""
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn


def network():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))


def mnist(name, n):
    d = os.path.expanduser('~/.cache/kallima/mnist/')  # kallima data fetch mnist
    x = np.fromfile(d + name + '-images-idx3-ubyte', dtype=np.uint8, offset=16).reshape(n, 1, 28, 28)
    y = np.fromfile(d + name + '-labels-idx1-ubyte', dtype=np.uint8, offset=8)
    return torch.tensor(x.astype(np.float32) / 255), torch.tensor(y.astype(np.int64))


def train(out, seed):
    torch.manual_seed(seed)
    xtr, ytr = mnist('train', 60000)
    xte, yte = mnist('t10k', 10000)
    net = network()
    opt = torch.optim.Adadelta(net.parameters(), lr=1.0, rho=0.95, eps=1e-7)
    for ep in range(20):
        t0 = time.time()
        net.train()
        perm = torch.randperm(60000)
        for i in range(0, 60000, 128):
            idx = perm[i:i + 128]
            loss = nn.functional.cross_entropy(net(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            pred = torch.cat([net(xte[i:i + 1000]).argmax(1) for i in range(0, 10000, 1000)])
        print(f'epoch {ep + 1}: test accuracy {(pred == yte).float().mean().item():.4f}, {time.time() - t0:.0f} s',
              flush=True)
    torch.save(net.state_dict(), out)


def score(weights, files):
    net = network()
    net.load_state_dict(torch.load(weights))
    net.eval()
    for f in files:
        x = np.load(f)
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (3, 28, 28):
            sys.exit(f'{f}: {x.dtype} {x.shape}, want uint8 [N, 3, 28, 28]')
        n = x.shape[0]
        with torch.no_grad():
            p = torch.cat([torch.softmax(net(torch.tensor(x[i:i + 200].reshape(-1, 1, 28, 28).astype(np.float32) / 255)), 1)
                           for i in range(0, n, 200)]).numpy()
        d = p.argmax(1).reshape(n, 3)
        h = np.bincount(d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2], minlength=1000) / n
        kl = sum(q * np.log(q * 1000) for q in h if q > 0)
        ch = [np.bincount(d[:, c], minlength=10) / n for c in range(3)]
        chkl = ' '.join(f'{sum(q * np.log(q * 10) for q in c if q > 0):.3f}' for c in ch)
        top = p.max(1)
        print(f'{f}: modes {np.count_nonzero(h)}, KL {kl:.3f} (channels {chkl}), confidence {top.mean():.3f}, '
              f'unsure {(top < 0.9).mean():.3f}, 9s {np.mean([c[9] for c in ch]):.3f}, '
              f'4s {np.mean([c[4] for c in ch]):.3f}', flush=True)


if __name__ == '__main__':
    if len(sys.argv) >= 3 and sys.argv[1] == 'train':
        train(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    elif len(sys.argv) >= 4 and sys.argv[1] == 'score':
        score(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
