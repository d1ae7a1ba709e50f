#!/usr/bin/python3
"""The PyTorch reference for singa's examples/cnn.sng: the same recipe, timed the same way.

LeNet-like: conv 5x5x20, max pool 2, conv 5x5x50, max pool 2, dense 500, ReLU, dense 10 on
[64, 1, 28, 28] images, softmax cross-entropy (mean over the batch), batch 64, SGD lr 0.02
momentum 0.9 no weight decay with the learning rate decayed by CosineAnnealingLR(1876) every
step (singa's schedule = cosine(steps = 1876)), PyTorch's default nn.Conv2d / nn.Linear init, pixels scaled
by 1/255 then standardised by the training set's global mean and std (two scalars over all
pixels, population std).  Batches walk a fresh permutation of the 60,000 training images
each epoch and wrap into the next epoch mid-batch, as singa's batcher does, so every batch
holds 64 images and 1876 steps are two epochs (plus 64 images).

--steps counts every training step, --warmup the first of them left out of the timing,
as singa-exec does: samples/s = (steps - warmup) * 64 / wall time of those steps, timing
the whole step (batch gather, forward, backward, optimizer step).  Evaluation is not timed.

torch's OpenMP pool is told to sleep rather than spin between parallel regions
(--omp-wait-policy passive, the default unless OMP_WAIT_POLICY is set): Debian's torch runs
its matrix products on OpenBLAS's own pthread pool, and on a two-core machine shared with
other work the two pools spinning against each other made torch with 2 threads ~10x slower
than with 1 on bench/mlp (about 600 against 5,500 samples/s), which would measure the fight.
--omp-wait-policy unset runs torch as shipped.

Convolutions run on whatever this torch build picks for CPU (Debian's: oneDNN, printed as
mkldnn=True); the OpenBLAS core torch loaded is printed as openblas_core=.

Run it with Debian's torch: /usr/bin/python3 bench/cnn/torch_cnn.py [options].
The last line is `torch: samples/s=<float> steps=<n> test_acc=<float or nan> threads=<n>`.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import torch_ref  # noqa: E402  (the data, training loop and timing every bench/ model shares)


def model(nn):
    return nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2),
                         nn.Conv2d(20, 50, 5), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(800, 500), nn.ReLU(),
                         nn.Linear(500, 10))


if __name__ == "__main__":
    torch_ref.main("torch_cnn", __doc__, (1, 28, 28), model, lr=0.02, cosine=1876)
