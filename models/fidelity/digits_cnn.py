"""A small CNN trained deterministically on scikit-learn's digits; top-1 accuracy per scheme.

Data: sklearn.datasets.load_digits (1797 8x8 images, bundled with scikit-learn), pixels / 16,
split 70/30 stratified with random_state 0. Network: conv3x3(1->16) ReLU, conv3x3(16->32) ReLU,
2x2 max-pool, linear(512->64) ReLU, linear(64->10). Training: torch.manual_seed(0), one thread,
deterministic algorithms, Adam lr 3e-3, 25 epochs of batch 64 in a seeded order: the same weights
on every run of the same torch build (a few seconds on one CPU core).

Under a scheme, both convolutions (as im2col GEMMs) and both linear layers are replaced by the
quantized layers of lowbit.models.fidelity.quantized: weights and input activations through lowbit.hwsim.quant.
"""
from __future__ import annotations

import copy
import math

import numpy as np

SEED = 0
TEST_FRACTION = 0.3
MODEL_NAME = "digits-cnn"
EPOCHS = 25
BATCH = 64
LEARNING_RATE = 3e-3

_TRAINED = None


def dataset():
    """(x_train, y_train, x_test, y_test) as torch tensors, x shaped [n, 1, 8, 8]."""
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=TEST_FRACTION, random_state=SEED, stratify=digits.target)
    return (torch.from_numpy(x_train), torch.from_numpy(y_train),
            torch.from_numpy(x_test), torch.from_numpy(y_test))


def test_samples() -> int:
    """Images in the test split: train_test_split takes ceil(TEST_FRACTION * n) of the n
    digits images (540 of 1797)."""
    from sklearn.datasets import load_digits
    return math.ceil(TEST_FRACTION * len(load_digits().target))


def build():
    from torch import nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))


def trained_model():
    """The float32 network, trained once per process (see the module doc for the recipe)."""
    global _TRAINED
    if _TRAINED is None:
        _TRAINED = _train()
    return _TRAINED


def _train():
    import torch
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)  # one thread: a fixed summation order, so fixed weights
    torch.use_deterministic_algorithms(True)
    try:
        torch.manual_seed(SEED)
        model = build()
        x_train, y_train, _, _ = dataset()
        optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
        order = torch.Generator().manual_seed(SEED)
        for _ in range(EPOCHS):
            for batch in torch.randperm(len(x_train), generator=order).split(BATCH):
                optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(x_train[batch]), y_train[batch])
                loss.backward()
                optimizer.step()
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    return model.eval()


def accuracy(model) -> float:
    """Top-1 accuracy on the test split."""
    import torch
    _, _, x_test, y_test = dataset()
    with torch.no_grad():
        predicted = model(x_test).argmax(dim=1)
    return float((predicted == y_test).float().mean())


def quantized_model(scheme):
    from lowbit.models.fidelity.quantized import quantize_model
    return quantize_model(copy.deepcopy(trained_model()), scheme)


def evaluate(scheme) -> dict:
    """top1 of the network quantized by ``scheme``, float_top1 of the float32 network, n_test
    (the test images both are measured on)."""
    return {"top1": accuracy(quantized_model(scheme)), "float_top1": accuracy(trained_model()),
            "n_test": test_samples()}
