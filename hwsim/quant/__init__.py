"""Quantization: scales, granularity, calibration, packing, and the Scheme that ties them.

    from lowbit.hwsim import quant
    scheme = quant.Scheme(weight="int4", act="float8_e4m3fn", granularity="group",
                          group_size=128, scale_format="float16", symmetric=True,
                          calibration="minmax")
    q = quant.quantize(w, scheme.weight_spec, axis=-1)  # QTensor(codes, scales, zero_points, ...)
    w_hat = quant.dequantize(q)
    packed = quant.pack(q.codes, 4, axis=-1)            # little-endian bit stream along the axis
    quant.preset("int4-g128"), quant.preset_names()

Modules: spec (QuantSpec, validation), scheme (Scheme, labels), granularity (groups along the
axis), calibrate (clipping ranges), scaling (scales, scaled encode/decode, MX), sign_quant
(binary, ternary), scales (scale formats and their rounding), ieee (float16/bfloat16/float32),
qtensor (QTensor, quantize, dequantize), pack (bit packing), presets (named schemes).
"""
from lowbit.hwsim.quant.calibrate import MSE_CLIP_RATIOS
from lowbit.hwsim.quant.granularity import grouping
from lowbit.hwsim.quant.pack import pack, packed_length, unpack
from lowbit.hwsim.quant.presets import preset, preset_description, preset_names
from lowbit.hwsim.quant.qtensor import QTensor, dequantize, quantize
from lowbit.hwsim.quant.scales import SCALE_FORMATS, ZERO_GROUP_SCALE
from lowbit.hwsim.quant.scheme import Scheme, quantize_act
from lowbit.hwsim.quant.spec import CALIBRATIONS, GRANULARITIES, MX_BLOCK_SIZE, QuantSpec, \
    element_format_names

__all__ = ["CALIBRATIONS", "GRANULARITIES", "MSE_CLIP_RATIOS", "MX_BLOCK_SIZE", "QTensor",
           "QuantSpec", "SCALE_FORMATS", "Scheme", "ZERO_GROUP_SCALE", "dequantize",
           "element_format_names", "grouping", "pack", "packed_length", "preset",
           "preset_description", "preset_names", "quantize", "quantize_act", "unpack"]
