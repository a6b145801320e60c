"""kernels: CUDA low-bit GEMM/GEMV kernels, compiled through CuPy, checked against hwsim.

    from lowbit.kernels import weight_only, integer     # importable without CuPy or a GPU
    w = weight_only.from_qtensor(q).to_device()  # needs CuPy and a CUDA GPU from here on
    y = weight_only.linear(x, w)

Modules: ``weight_only`` (W8/W4/W2/W1/FP8-E4M3 weights, fp16 activations), ``integer`` (W8A8,
A1W1, bit-plane and LUT GEMMs, exact int32), ``reference`` (numpy references and host models of
the kernels' arithmetic), ``bench`` (``python -m lowbit.kernels.bench``). CUDA sources: kernels/cuda/.
Without CuPy or a device, the GPU entry points raise ``lowbit.kernels.KernelUnavailable``.
"""
from lowbit.kernels._device import KernelUnavailable, gpu_unavailable_reason

__all__ = ["KernelUnavailable", "gpu_unavailable_reason"]
