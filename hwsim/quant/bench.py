"""Benchmark: quantize and dequantize every preset's weight spec on an n x n float32 weight.

    python -m lowbit.hwsim.quant.bench [--n 4096] [--repeats 5] [--seed 0]

The peer, timed in the same run: torch's per-channel int8 quantization on CPU (amax per row,
scale = amax / 127, ``torch.quantize_per_channel``), against the "int8" preset's weight spec,
which does the same job (per-channel int8, float16 scales). Times are medians of ``repeats``
runs after one warm-up run (which also loads the Numba kernels).
"""
from __future__ import annotations

import argparse
import warnings

import numpy as np

from lowbit.hwsim.bench.timing import median_seconds
from lowbit.hwsim.quant.presets import preset, preset_names
from lowbit.hwsim.quant.qtensor import dequantize, quantize


def preset_times(w: np.ndarray, repeats: int) -> list[tuple[str, float, float]]:
    """(preset name, quantize seconds, dequantize seconds) for every preset's weight spec."""
    rows = []
    for name in preset_names():
        spec = preset(name).weight_spec
        q = quantize(w, spec, axis=-1)
        rows.append((name, median_seconds(lambda: quantize(w, spec, axis=-1), repeats),
                     median_seconds(lambda: dequantize(q), repeats)))
    return rows


def torch_int8_per_channel_seconds(w: np.ndarray, repeats: int) -> float:
    import torch

    weight = torch.from_numpy(w)

    def quantize_per_channel():
        scales = (weight.abs().amax(dim=1) / 127).clamp_min(torch.finfo(torch.float32).tiny)
        zero_points = torch.zeros(weight.shape[0], dtype=torch.int64)
        return torch.quantize_per_channel(weight, scales.double(), zero_points, 0, torch.qint8)

    with warnings.catch_warnings():
        # torch 2.13 marks its quantized tensor types deprecated; they are still the CPU peer.
        warnings.filterwarnings("ignore", message="torch.quantize_per_tensor", category=UserWarning)
        return median_seconds(quantize_per_channel, repeats)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lowbit.hwsim.quant.bench",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096, help="weight is n x n (default 4096)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per case (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.n < 128 or args.n % 128:
        parser.error(f"--n must be a positive multiple of 128 (the largest preset group), "
                     f"got {args.n}")
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    w = np.random.default_rng(args.seed).standard_normal((args.n, args.n)).astype(np.float32)
    rows = preset_times(w, args.repeats)
    peer = torch_int8_per_channel_seconds(w, args.repeats)
    print(f"weight {args.n}x{args.n} float32, seed {args.seed}, median of {args.repeats}")
    print(f"{'preset':<16}{'quantize s':>12}{'dequantize s':>14}")
    for name, quantize_s, dequantize_s in rows:
        print(f"{name:<16}{quantize_s:>12.4f}{dequantize_s:>14.4f}")
    ours = dict((name, q_s) for name, q_s, _ in rows)["int8"]
    print(f"peer torch.quantize_per_channel int8: {peer:.4f} s; "
          f"int8 preset / torch = {ours / peer:.2f}x the time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
