"""Post-training quantization methods: each turns one linear layer's float weight (and, where the
method needs them, statistics of its calibration inputs) into an ordinary hwsim QTensor plus an
input transform that the hardware folds into the layer before it.

    layer = quantize_linear(linear, scheme, stats)      # scheme.method picks the method
    y = layer(x)   # = F.linear(act_quant(transform(x)), dequantize(layer.qweight))

The hardware sees only the QTensor's codes and scales, under ``scheme.weight_spec``; a method is
how those codes were chosen. Input transforms, and where they go on a deployed model:

  rtn          none; codes = lowbit.hwsim.quant.quantize(W) (round to nearest, min-max scales)
  gptq         none. Frantar et al. 2022 (arXiv:2210.17323): H = X^T X / n from calibration
               inputs, damped by DAMP * mean(diag H); columns in natural order (left to right,
               so a scale group is always a run of whole columns, as the group quantizer has it);
               each group's scales are set by the group quantizer on the error-updated columns
               when the sweep reaches it (per-channel scales: on the whole row at the start);
               each column is rounded with those scales and its error, weighted by the inverse
               Hessian's upper Cholesky factor, is fed into the columns not yet quantized (lazy
               batch updates per block of GPTQ_BLOCK columns, or of gcd(group, GPTQ_BLOCK)).
               Layers reading one input (q/k/v, gate/up) share one Hessian and run as one
               stacked weight (quantize_linears).
  awq          x -> x / s, W -> W * s (per input channel). Lin et al. 2023 (arXiv:2306.00978):
               s = mean|x|^alpha, normalized by sqrt(max(s) * min(s)); alpha from AWQ_ALPHAS,
               the one with the lowest output error of the quantized layers (the scheme's
               weight and activation quantization) on AWQ_SAMPLE_ROWS calibration rows. No weight
               clipping search. 1/s folds into the RMSNorm weight before q/k/v and gate/up (one s
               shared by the layers that read the same input), into up_proj's rows before
               down_proj; before o_proj (GQA repeats v heads) it is an elementwise multiply.
  smoothquant  x -> x / s, W -> W * s. Xiao et al. 2022 (arXiv:2211.10438):
               s_j = max|x_j|^alpha / max|W_:,j|^(1 - alpha), alpha = SMOOTHQUANT_ALPHA, max|W|
               over the layers sharing the input; 1/s folds as AWQ's does.
  rotation     x -> x @ R, W -> W @ R with R orthogonal (W x = (W R)(R^T x)). QuaRot-style
               (Ashkboos et al. 2024, arXiv:2404.00456): R = diag(random signs) @ kron(H_p / sqrt(p),
               Q_m), H_p the Sylvester Hadamard matrix of the largest power of two p dividing K
               and Q_m a random orthogonal m x m matrix (m = K / p; QuaRot uses known Hadamard
               matrices of order 12, 20, ... there), both from ROTATION_SEED. One R per input
               width, so every layer reading the residual stream sees the same rotation, which
               QuaRot folds into the embeddings and the weights; down_proj's is QuaRot's online
               Hadamard.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lowbit.models.fidelity.quantized import (QuantGemm, active_arithmetic, padded_k, pad,
                                              quantize_dequantize)

DAMP = 0.01
GPTQ_BLOCK = 32
AWQ_ALPHAS = tuple(i / 20 for i in range(20))
AWQ_SAMPLE_ROWS = 512
SMOOTHQUANT_ALPHA = 0.5
ROTATION_SEED = 0
# What each method needs from the calibration inputs (InputStats fields).
NEEDS = {"rtn": (), "gptq": ("hessian",), "awq": ("abs_mean", "sample"),
         "smoothquant": ("abs_max",), "rotation": ()}


@dataclass
class InputStats:
    """Statistics of one layer's calibration inputs x[n, K] (only the fields a method needs)."""
    rows: int = 0
    hessian: torch.Tensor | None = None    # sum over rows of x^T x, float32 [K, K]
    abs_max: torch.Tensor | None = None    # max |x| per input channel [K]
    abs_mean: torch.Tensor | None = None   # mean |x| per input channel [K]
    sample: torch.Tensor | None = None     # the first AWQ_SAMPLE_ROWS rows [<= 512, K]

    def add(self, x2d: torch.Tensor, fields) -> None:
        """Accumulate a batch of input rows."""
        x = x2d.detach().to(torch.float32)
        n = self.rows + x.shape[0]
        if "hessian" in fields:
            xx = x.T @ x
            self.hessian = xx if self.hessian is None else self.hessian + xx
        if "abs_max" in fields:
            amax = x.abs().amax(dim=0)
            self.abs_max = amax if self.abs_max is None else torch.maximum(self.abs_max, amax)
        if "abs_mean" in fields:
            total = x.abs().sum(dim=0)
            prev = 0 if self.abs_mean is None else self.abs_mean * self.rows
            self.abs_mean = (prev + total) / n
        if "sample" in fields:
            have = 0 if self.sample is None else self.sample.shape[0]
            if have < AWQ_SAMPLE_ROWS:
                take = x[:AWQ_SAMPLE_ROWS - have].clone()
                self.sample = take if self.sample is None else torch.cat([self.sample, take])
        self.rows = n


class SharedInput:
    """The transformed, quantized input of the layers that read one tensor (q/k/v, gate/up) and
    share its transform: the first layer computes it, the others reuse it while the tensor is
    the same object, unmodified (torch's version counter) — one activation quantization per
    input instead of one per layer."""

    def __init__(self):
        self.source, self.version, self.value = None, None, None

    def get(self, x: torch.Tensor, compute) -> torch.Tensor:
        if self.source is not x or self.version != x._version:
            self.source, self.version, self.value = x, x._version, compute(x)
        return self.value


class PTQLinear(QuantGemm):
    """A linear layer computing ``F.linear(act_quant(transform(x)), dequantize(qweight), b)``:
    ``qweight`` is the method's QTensor (its codes decoded once, on construction), transform is
    x / input_scale, x @ rotation or nothing. ``output_spec`` (the KV cache's) quantizes the
    output per row of ``output_row`` elements (one scale per token and head). ``shared_input``
    (a SharedInput) is given to every layer reading the same tensor with the same transform."""

    def __init__(self, qweight, bias, scheme, in_features: int, *, input_scale=None,
                 rotation=None, output_spec=None, output_row=None, shared_input=None):
        nn.Module.__init__(self)
        from lowbit.hwsim import quant
        self.scheme, self.K, self.qweight = scheme, in_features, qweight
        # Decoded once from the codes: an LLM forward runs every layer on every batch, and
        # re-decoding each time doubled its cost.
        self.weight_hat = torch.from_numpy(
            np.ascontiguousarray(quant.dequantize(qweight)[:, :in_features]))
        self.bias = None if bias is None else bias.detach().to(torch.float32).clone()
        self.input_scale, self.rotation = input_scale, rotation
        self.output_spec, self.output_row = output_spec, output_row
        self.shared_input = shared_input or SharedInput()

    def dequantized_weight(self) -> torch.Tensor:
        return self.weight_hat

    def transformed_input(self, x: torch.Tensor) -> torch.Tensor:
        """transform(x) (AWQ/SmoothQuant input scale, rotation) as float32 [rows, K]."""
        x2d = x.reshape(-1, x.shape[-1]).to(torch.float32)
        if self.input_scale is not None:
            x2d = x2d / self.input_scale
        if self.rotation is not None:
            x2d = x2d @ self.rotation
        return x2d

    def quantized_input(self, x: torch.Tensor) -> torch.Tensor:
        """act_quant(transform(x)) as float32 [rows, K]."""
        x_hat = quantize_dequantize(self.transformed_input(x).detach().numpy(),
                                    self.scheme.act_spec)
        return torch.from_numpy(np.ascontiguousarray(x_hat))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        arithmetic, observe = active_arithmetic()
        if arithmetic is not None:   # through the PE's arithmetic (quantized.pe_arithmetic)
            y = self.pe_gemm(self.transformed_input(x), arithmetic, observe)
        else:
            y = F.linear(self.shared_input.get(x, self.quantized_input), self.weight_hat,
                         self.bias)
        if self.output_spec is not None:
            rows = y.reshape(-1, self.output_row).numpy()
            y = torch.from_numpy(quantize_dequantize(rows, self.output_spec)).reshape(y.shape)
        return y.reshape(*x.shape[:-1], y.shape[-1])


def quantize_linear(linear: nn.Linear, scheme, stats: InputStats | None = None, *,
                    input_scale: torch.Tensor | None = None, output_spec=None,
                    output_row=None) -> PTQLinear:
    """``linear`` quantized by ``scheme.method``. ``input_scale`` (AWQ, SmoothQuant) comes from
    ``awq_scale``/``smoothquant_scale`` over the layers sharing the input; GPTQ needs
    ``stats.hessian``."""
    (layer,) = quantize_linears([linear], scheme, stats, input_scale=input_scale,
                                outputs=[(output_spec, output_row)])
    return layer


def quantize_linears(linears: list[nn.Linear], scheme, stats: InputStats | None = None, *,
                     input_scale: torch.Tensor | None = None, outputs=None) -> list[PTQLinear]:
    """The layers that read one input tensor (q/k/v, or gate/up: one ``stats``, one
    ``input_scale``), each quantized by ``scheme.method`` as ``quantize_linear`` does; they
    share one SharedInput. ``outputs``: per layer (output_spec, output_row), default none. GPTQ
    runs once over the layers' stacked rows: given the shared Hessian a row's codes depend on
    that row alone, so this is one run per layer at a fraction of the per-column work."""
    method, rotation = scheme.method, None
    if method in ("awq", "smoothquant") and input_scale is None:
        raise ValueError(f"input_scale is required for method {method!r}")
    if method not in ("awq", "smoothquant") and input_scale is not None:
        raise ValueError(f"input_scale applies to awq and smoothquant only, not {method!r}")
    weights = [linear.weight.detach().to(torch.float32) for linear in linears]
    in_features = weights[0].shape[1]
    if input_scale is not None:
        weights = [weight * input_scale for weight in weights]
    if method == "rotation":
        rotation = rotation_matrix(in_features)
        weights = [weight @ rotation for weight in weights]
    if method == "gptq":
        if stats is None or stats.hessian is None:
            raise ValueError("stats.hessian is required for method 'gptq'")
        stacked = gptq(torch.cat(weights), stats.hessian / max(stats.rows, 1), scheme.weight_spec)
        qweights = split_rows(stacked, [weight.shape[0] for weight in weights])
    else:
        qweights = [rtn(weight, scheme.weight_spec) for weight in weights]
    shared = SharedInput()
    return [PTQLinear(qweight, linear.bias, scheme, in_features, input_scale=input_scale,
                      rotation=rotation, output_spec=output_spec, output_row=output_row,
                      shared_input=shared)
            for linear, qweight, (output_spec, output_row)
            in zip(linears, qweights, outputs or [(None, None)] * len(linears))]


def split_rows(qweight, counts: list[int]) -> list:
    """A QTensor W[N, K] (quantized along K) cut into QTensors of ``counts`` rows each."""
    from lowbit.hwsim import quant
    parts, start = [], 0
    for count in counts:
        rows = slice(start, start + count)
        zero_points = None if qweight.zero_points is None else qweight.zero_points[rows]
        parts.append(quant.QTensor(codes=qweight.codes[rows], scales=qweight.scales[rows],
                                   zero_points=zero_points, spec=qweight.spec,
                                   shape=(count, qweight.shape[1]), axis=1))
        start += count
    return parts


def rtn(weight: torch.Tensor, spec):
    """Round to nearest: hwsim's quantizer on W[N, K] (K zero-padded to whole groups)."""
    from lowbit.hwsim import quant
    w = weight.detach().to(torch.float32).numpy()
    return quant.quantize(pad(w, padded_k(spec, w.shape[1])), spec, axis=-1)


def gptq(weight: torch.Tensor, hessian: torch.Tensor, spec):
    """GPTQ codes of W[N, K] under ``spec`` ("channel" or "group", a scaled element format)
    given the mean input Hessian H = X^T X / n [K, K] (see the module docstring)."""
    from lowbit.hwsim import quant
    if spec.is_ieee or spec.granularity not in ("channel", "group") \
            or spec.element_format.kind in ("binary", "ternary"):
        raise ValueError(f"gptq needs a scaled weight format with granularity channel or group, "
                         f"got {spec.format} ({spec.granularity})")
    n_out, k = weight.shape
    width = padded_k(spec, k)
    w = torch.zeros(n_out, width, dtype=torch.float64)
    w[:, :k] = weight.double()
    h = torch.eye(width, dtype=torch.float64)  # padded columns: unit curvature, zero weight
    h[:k, :k] = hessian.double()
    dead = torch.diag(h) == 0  # an input channel that never fires: its weight cannot matter
    h[dead, dead] = 1.0
    w[:, dead] = 0.0
    h += DAMP * torch.mean(torch.diag(h)) * torch.eye(width, dtype=torch.float64)
    hinv = upper_cholesky_of_inverse(h)
    # One torch thread for the column sweep: its ops are too small to share, and on 2 busy
    # cores a second thread's wake-ups cost ~10x the CPU time of the work (SmolLM2 shapes).
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        codes, scales, zero_points = _gptq_sweep(w, hinv, spec)
    finally:
        torch.set_num_threads(previous_threads)
    return quant.QTensor(codes=codes, scales=scales, zero_points=zero_points, spec=spec,
                         shape=(n_out, width), axis=1)


def _gptq_sweep(w: torch.Tensor, hinv: torch.Tensor, spec):
    """(codes, scales, zero points or None) of GPTQ over every column of the padded W."""
    from lowbit.hwsim import quant
    n_out, width = w.shape
    group = spec.group_size if spec.granularity == "group" else width
    # Lazy batch updates (exact): rank-1 updates only inside a block of `block` columns, a
    # matrix product carries a finished block's errors to every later column. A block never
    # straddles a scale group, whose scales are set when the sweep reaches its first column.
    block = math.gcd(group, GPTQ_BLOCK) if spec.granularity == "group" else GPTQ_BLOCK
    codes = np.empty((n_out, width), dtype=np.uint8)
    scales, zeros = [], []
    for start in range(0, width, block):
        end = min(start + block, width)
        if start % group == 0:
            q = quant.quantize(w[:, start:start + group].numpy(), spec, axis=-1)
            s = q.scales[:, :1]
            z = None if q.zero_points is None else q.zero_points[:, :1]
            scales.append(s)
            zeros.append(z)
        codes[:, start:end], err = _gptq_block(w[:, start:end], hinv[start:end, start:end],
                                               s, z, spec)
        w[:, end:] -= err @ hinv[start:end, end:]
    zero_points = None if zeros[0] is None else np.concatenate(zeros, axis=1)
    return codes, np.concatenate(scales, axis=1), zero_points


def upper_cholesky_of_inverse(h: torch.Tensor) -> torch.Tensor:
    """The upper triangular U with U^T U = h^-1 (h symmetric positive definite), from one
    Cholesky factorization and one triangular solve: with J the order-reversing permutation
    and J h J = L L^T, U = J L^-1 J (then U^T U = J L^-T L^-1 J = h^-1)."""
    flipped = torch.linalg.cholesky(h.flip(0, 1))
    eye = torch.eye(h.shape[0], dtype=h.dtype)
    return torch.linalg.solve_triangular(flipped, eye, upper=False).flip(0, 1)


def _gptq_block(w_block: torch.Tensor, hinv_block: torch.Tensor, s, z, spec):
    """(codes [N, B], scaled errors [N, B]) of one block of columns, rounded left to right
    with the errors fed into the block's later columns. Integer formats round in torch
    (rint(x / s + z) clipped to the format's range, hwsim's integer encode, and its decode);
    the block's codes are then lowbit.hwsim's encode of the same inputs, one call per block,
    and must decode to exactly the values the errors were computed from."""
    from lowbit.hwsim.quant.scaling import decode_groups, encode_groups
    w_block = w_block.clone()
    fmt = spec.element_format
    n_out, width = w_block.shape
    s_t = torch.from_numpy(s.astype(np.float64))[:, 0]
    z_t = torch.zeros(n_out, dtype=torch.float64) if z is None \
        else torch.from_numpy(z.astype(np.float64))[:, 0]
    inputs = torch.empty(n_out, width, dtype=torch.float64)   # each column as it is rounded
    values = torch.empty(n_out, width, dtype=torch.float64)   # ... and its rounded value
    err = torch.empty(n_out, width, dtype=torch.float64)
    for j in range(width):
        column = w_block[:, j]
        inputs[:, j] = column
        if fmt.kind == "int":
            level = torch.clamp(torch.round(column / s_t + z_t), fmt.lowest, fmt.max)
            values[:, j] = (level - z_t) * s_t
        else:
            code = encode_groups(column.numpy()[:, None, None], s, z, spec)
            values[:, j] = torch.from_numpy(decode_groups(code, s, z, spec)[:, 0, 0])
        err[:, j] = (column - values[:, j]) / hinv_block[j, j]
        w_block[:, j + 1:].addr_(err[:, j], hinv_block[j, j + 1:], alpha=-1)
    codes = encode_groups(inputs.numpy()[:, None, :], s, z, spec)
    if not np.array_equal(decode_groups(codes, s, z, spec)[:, 0, :], values.numpy()):
        raise AssertionError("gptq: the torch rounding disagrees with lowbit.hwsim's encode")
    return codes[:, 0, :], err


def smoothquant_scale(abs_max: torch.Tensor, weights: list[torch.Tensor],
                      alpha: float = SMOOTHQUANT_ALPHA) -> torch.Tensor:
    """s_j = max|x_j|^alpha / max|W_:,j|^(1 - alpha) over the layers sharing the input."""
    w_max = torch.cat([w.detach().abs() for w in weights]).amax(dim=0).float()
    s = abs_max.float().clamp(min=1e-5) ** alpha / w_max.clamp(min=1e-5) ** (1 - alpha)
    return s.clamp(min=1e-5)


def awq_scale(stats: InputStats, layers: list[nn.Linear], scheme) -> torch.Tensor:
    """The AWQ input scale shared by ``layers`` (see the module docstring): the alpha whose
    quantized layers have the lowest summed squared output error on ``stats.sample``."""
    from lowbit.hwsim import quant
    x = stats.sample.float()
    wanted = [F.linear(x, layer.weight.detach().float()) for layer in layers]
    best, best_err = None, float("inf")
    for alpha in AWQ_ALPHAS:
        s = stats.abs_mean.float().clamp(min=1e-4) ** alpha
        s = s / torch.sqrt(s.max() * s.min())
        x_hat = torch.from_numpy(quantize_dequantize((x / s).numpy(), scheme.act_spec))
        err = 0.0
        for layer, y in zip(layers, wanted):
            q = rtn(layer.weight.detach().float() * s, scheme.weight_spec)
            w_hat = torch.from_numpy(quant.dequantize(q))[:, :x.shape[1]]
            err += float(torch.sum((F.linear(x_hat, w_hat) - y) ** 2))
        if err < best_err:
            best, best_err = s, err
    return best


_ROTATIONS: dict[int, torch.Tensor] = {}


def rotation_matrix(k: int) -> torch.Tensor:
    """The seeded randomized Hadamard rotation R [k, k] (module docstring), float32, cached."""
    if k not in _ROTATIONS:
        p = k & -k  # the largest power of two dividing k
        generator = torch.Generator().manual_seed(ROTATION_SEED + k)
        hadamard = torch.ones(1, 1, dtype=torch.float64)
        while hadamard.shape[0] < p:  # Sylvester: H_2n = [[H, H], [H, -H]]
            hadamard = torch.cat([torch.cat([hadamard, hadamard], 1),
                                  torch.cat([hadamard, -hadamard], 1)])
        m = k // p
        orthogonal, _ = torch.linalg.qr(torch.randn(m, m, generator=generator,
                                                    dtype=torch.float64))
        signs = torch.randint(0, 2, (k,), generator=generator).double() * 2 - 1
        rotation = signs[:, None] * torch.kron(hadamard / p ** 0.5, orthogonal.contiguous())
        _ROTATIONS[k] = rotation.to(torch.float32)
    return _ROTATIONS[k]
