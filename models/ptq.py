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
               Hessian's Cholesky factor, is fed into the columns not yet quantized (lazy batch
               updates per scale group, or per GPTQ_BLOCK columns).
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

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lowbit.models.fidelity.quantized import QuantGemm, padded_k, pad, quantize_dequantize

DAMP = 0.01
GPTQ_BLOCK = 128
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


class PTQLinear(QuantGemm):
    """A linear layer computing ``F.linear(act_quant(transform(x)), dequantize(qweight), b)``:
    ``qweight`` is the method's QTensor (its codes decoded once, on construction), transform is
    x / input_scale, x @ rotation or nothing. ``output_spec`` (the KV cache's) quantizes the
    output per row of ``output_row`` elements (one scale per token and head)."""

    def __init__(self, qweight, bias, scheme, in_features: int, *, input_scale=None,
                 rotation=None, output_spec=None, output_row=None):
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

    def dequantized_weight(self) -> torch.Tensor:
        return self.weight_hat

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2d = x.reshape(-1, x.shape[-1]).to(torch.float32)
        if self.input_scale is not None:
            x2d = x2d / self.input_scale
        if self.rotation is not None:
            x2d = x2d @ self.rotation
        y = self.gemm(x2d)
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
    weight = linear.weight.detach().to(torch.float32)
    method, rotation = scheme.method, None
    if method in ("awq", "smoothquant"):
        if input_scale is None:
            raise ValueError(f"input_scale is required for method {method!r}")
        weight = weight * input_scale
    elif input_scale is not None:
        raise ValueError(f"input_scale applies to awq and smoothquant only, not {method!r}")
    if method == "rotation":
        rotation = rotation_matrix(weight.shape[1])
        weight = weight @ rotation
    if method == "gptq":
        if stats is None or stats.hessian is None:
            raise ValueError("stats.hessian is required for method 'gptq'")
        qweight = gptq(weight, stats.hessian / max(stats.rows, 1), scheme.weight_spec)
    else:
        qweight = rtn(weight, scheme.weight_spec)
    return PTQLinear(qweight, linear.bias, scheme, weight.shape[1], input_scale=input_scale,
                     rotation=rotation, output_spec=output_spec, output_row=output_row)


def rtn(weight: torch.Tensor, spec):
    """Round to nearest: hwsim's quantizer on W[N, K] (K zero-padded to whole groups)."""
    from lowbit.hwsim import quant
    w = weight.detach().to(torch.float32).numpy()
    return quant.quantize(pad(w, padded_k(spec, w.shape[1])), spec, axis=-1)


def gptq(weight: torch.Tensor, hessian: torch.Tensor, spec):
    """GPTQ codes of W[N, K] under ``spec`` ("channel" or "group", a scaled element format)
    given the mean input Hessian H = X^T X / n [K, K] (see the module docstring)."""
    from lowbit.hwsim import quant
    from lowbit.hwsim.quant.scaling import decode_groups, encode_groups
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
    hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)
    group = spec.group_size if spec.granularity == "group" else width
    block = spec.group_size if spec.granularity == "group" else GPTQ_BLOCK
    codes = np.empty((n_out, width), dtype=np.uint8)
    scales, zeros = [], []
    for start in range(0, width, block):
        end = min(start + block, width)
        if start % group == 0:  # a new scale group: its scales from the updated columns
            q = quant.quantize(w[:, start:start + group].numpy(), spec, axis=-1)
            s = q.scales[:, :1]
            z = None if q.zero_points is None else q.zero_points[:, :1]
            scales.append(s)
            zeros.append(z)
        err = torch.zeros(n_out, end - start, dtype=torch.float64)
        for i in range(start, end):
            col = w[:, i].numpy()[:, None, None]
            code = encode_groups(col, s, z, spec)
            value = torch.from_numpy(decode_groups(code, s, z, spec)[:, 0, 0])
            codes[:, i] = code[:, 0, 0]
            e = (w[:, i] - value) / hinv[i, i]
            w[:, i:end] -= e[:, None] * hinv[i, i:end][None, :]
            err[:, i - start] = e
        w[:, end:] -= err @ hinv[start:end, end:]
    zero_points = None if zeros[0] is None else np.concatenate(zeros, axis=1)
    return quant.QTensor(codes=codes, scales=np.concatenate(scales, axis=1),
                         zero_points=zero_points, spec=spec, shape=(n_out, width), axis=1)


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
