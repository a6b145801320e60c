"""Linear and convolution layers whose weights and input activations pass through lowbit.hwsim.quant.

Every GEMM ``y = x @ W.T + b`` of a wrapped layer is computed as
``dequantize(quantize(x, act_spec)) @ dequantize(qweight).T + b`` in float32, where ``qweight``
is the hwsim QTensor of the weight (codes + scales + zero points) and ``quantize``/``dequantize``
are lowbit.hwsim.quant's: the values used are decoded from the real element codes at every forward
pass, so changing a code in ``layer.qweight.codes`` changes the output.

Both operands are quantized along K (the reduction axis, lowbit.hwsim.quant's ``axis=-1``). When a
scale group (``group_size``, or 32 for MX) does not divide K, K is zero-padded to the next
multiple for both operands, as a hardware array pads a short final group; padded zeros add
nothing to the dot product. Convolutions run as their im2col GEMM (torch ``unfold``), the same
GEMM ``lowbit.models.workloads`` counts, so activations are grouped along C_in * kh * kw.

PE arithmetic (selectable per evaluation): inside ``with pe_arithmetic(arithmetic):`` every
quantized GEMM instead quantizes its input to codes and computes ``lowbit.hwsim.gemm.qtensor_gemm``
of the activation and weight codes: the PE's own accumulator (width, overflow policy, float
accumulation precision and rounding), the scales applied after the PE's sum, then ``+ b`` in
float32. Outside such a block (and with ``None``) the fake-quant path above runs.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def padded_k(spec, K: int) -> int:
    block = spec.group_size if spec.granularity in ("group", "mx") else None
    return K if block is None else -(-K // block) * block


def pad(x: np.ndarray, width: int) -> np.ndarray:
    if x.shape[-1] == width:
        return x
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, width - x.shape[-1])])


# IEEE activation formats whose rounding torch does as hwsim does (one round-to-nearest-even
# conversion from float32): the LLM path rounds every layer input, and hwsim's checked
# quantize -> dequantize costs ~5x the conversion. tests/models/test_fidelity_quantized.py
# checks the two agree bit for bit.
_TORCH_IEEE = {"float16": torch.float16, "bfloat16": torch.bfloat16}


@contextlib.contextmanager
def one_numba_thread():
    """numba's kernels (lowbit.hwsim's encoders) on one thread inside the block. Beside torch,
    numba's OpenMP workers keep spinning after each parallel region and slowed every torch
    op between two quantizations ~100x on 2 cores (measured); one thread loses little there.
    torch keeps its thread count: numba's first launch of its OpenMP pool (inside the first
    numba.get_num_threads) resets the OpenMP thread count that torch shares to numba's, once
    torch's own pool has started."""
    import numba
    torch_threads = torch.get_num_threads()
    previous = numba.get_num_threads()
    torch.set_num_threads(torch_threads)
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def quantize_dequantize(x: np.ndarray, spec) -> np.ndarray:
    """x[..., K] through hwsim quantize -> dequantize along K (padded; see module doc)."""
    from lowbit.hwsim import quant
    if spec.is_ieee and spec.format in _TORCH_IEEE:
        rounded = torch.from_numpy(np.asarray(x, dtype=np.float32)).to(_TORCH_IEEE[spec.format])
        back = rounded.to(torch.float32).numpy()
        # checked in float32: torch's float16 isfinite is not vectorized and cost more than the
        # rounding itself (SmolLM2 profile)
        if np.isfinite(back).all():  # overflow: hwsim below raises, naming the value
            return back
    K = x.shape[-1]
    padded = pad(np.ascontiguousarray(x, dtype=np.float32), padded_k(spec, K))
    return np.asarray(quant.dequantize(quant.quantize(padded, spec, axis=-1)))[..., :K]


# (arithmetic, observer) of the innermost pe_arithmetic block
_ARITHMETIC: ContextVar = ContextVar("pe_arithmetic", default=(None, None))


@contextlib.contextmanager
def pe_arithmetic(arithmetic, observe=None):
    """Quantized GEMMs run through ``arithmetic`` (a lowbit.hwsim.gemm.PEArithmetic, or None
    for fake quantization) inside the block; ``observe(qa, qweight)``, when given, sees the
    activation and weight QTensors of every such GEMM (e.g. to measure their accumulator
    needs)."""
    from lowbit.hwsim import gemm
    if arithmetic is not None and not isinstance(arithmetic, gemm.PEArithmetic):
        raise ValueError(f"arithmetic must be a PEArithmetic or None, "
                         f"got {type(arithmetic).__name__}")
    token = _ARITHMETIC.set((arithmetic, observe))
    try:
        yield
    finally:
        _ARITHMETIC.reset(token)


class QuantGemm(nn.Module):
    """A GEMM with a quantized weight W[N, K] (hwsim QTensor) and quantized input activations."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, scheme):
        super().__init__()
        from lowbit.hwsim import quant
        self.scheme = scheme
        self.K = weight.shape[1]
        w = weight.detach().to(torch.float32).numpy()
        self.qweight = quant.quantize(pad(w, padded_k(scheme.weight_spec, self.K)),
                                      scheme.weight_spec, axis=-1)
        self.bias = None if bias is None else bias.detach().to(torch.float32).clone()

    def dequantized_weight(self) -> torch.Tensor:
        from lowbit.hwsim import quant
        w = np.asarray(quant.dequantize(self.qweight), dtype=np.float32)[:, :self.K]
        return torch.from_numpy(np.ascontiguousarray(w))

    def gemm(self, x2d: torch.Tensor) -> torch.Tensor:
        arithmetic, observe = active_arithmetic()
        if arithmetic is not None:
            return self.pe_gemm(x2d, arithmetic, observe)
        x_hat = quantize_dequantize(x2d.detach().to(torch.float32).numpy(), self.scheme.act_spec)
        return F.linear(torch.from_numpy(np.ascontiguousarray(x_hat)), self.dequantized_weight(),
                        self.bias)

    def pe_gemm(self, x2d: torch.Tensor, arithmetic, observe=None) -> torch.Tensor:
        """x2d @ W.T + b through the PE arithmetic (module doc), on the activation codes."""
        from lowbit.hwsim import gemm, quant
        x = pad(np.ascontiguousarray(x2d.detach().to(torch.float32).numpy()),
                self.qweight.shape[1])
        qa = quant.quantize(x, self.scheme.act_spec, axis=-1)
        if observe is not None:
            observe(qa, self.qweight)
        y = torch.from_numpy(gemm.qtensor_gemm(qa, self.qweight, arithmetic))
        return y if self.bias is None else y + self.bias


def active_arithmetic():
    """(arithmetic, observe) of the innermost ``pe_arithmetic`` block; (None, None) outside."""
    return _ARITHMETIC.get()


class QuantLinear(QuantGemm):
    """Drop-in for ``nn.Linear`` (any leading dimensions)."""

    def __init__(self, linear: nn.Linear, scheme):
        super().__init__(linear.weight, linear.bias, scheme)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.gemm(x.reshape(-1, x.shape[-1]))
        return y.reshape(*x.shape[:-1], y.shape[-1])


class QuantConv2d(QuantGemm):
    """Drop-in for an ``nn.Conv2d`` (groups=1, dilation 1) computed as its im2col GEMM."""

    def __init__(self, conv: nn.Conv2d, scheme):
        if conv.groups != 1 or conv.dilation != (1, 1) or isinstance(conv.padding, str):
            raise ValueError("conv must have groups=1, dilation 1 and numeric padding")
        super().__init__(conv.weight.reshape(conv.out_channels, -1), conv.bias, scheme)
        self.kernel_size, self.stride, self.padding = conv.kernel_size, conv.stride, conv.padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        cols = F.unfold(x, self.kernel_size, padding=self.padding, stride=self.stride)
        out_h = (height + 2 * self.padding[0] - self.kernel_size[0]) // self.stride[0] + 1
        out_w = (width + 2 * self.padding[1] - self.kernel_size[1]) // self.stride[1] + 1
        y = self.gemm(cols.transpose(1, 2).reshape(-1, cols.shape[1]))  # [B * L, N]
        return y.reshape(batch, out_h * out_w, -1).transpose(1, 2).reshape(batch, -1, out_h, out_w)


def quantize_model(model: nn.Module, scheme) -> nn.Module:
    """Replace every nn.Linear and nn.Conv2d of ``model`` in place by its quantized version;
    returns ``model``."""
    for name, child in list(model.named_children()):
        if isinstance(child, nn.Linear):
            setattr(model, name, QuantLinear(child, scheme))
        elif isinstance(child, nn.Conv2d):
            setattr(model, name, QuantConv2d(child, scheme))
        else:
            quantize_model(child, scheme)
    return model


def quantized_layers(model: nn.Module) -> list[QuantGemm]:
    """The quantized layers of a model, in module order."""
    return [m for m in model.modules() if isinstance(m, QuantGemm)]
