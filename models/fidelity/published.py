"""Published LLaMA-2-7B results for schemes our presets name, to set beside the SmolLM2 proxy.

Raw numbers, with their source: WikiText-2 perplexity (sequence length 2048) of LLaMA-2-7B,
float16 5.47, from Lin et al. 2023, "AWQ: Activation-aware Weight Quantization for LLM
Compression and Acceleration", Table 4 (asymmetric INT weights, groups of 128, float16
activations; GPTQ without reordering). Only schemes whose format and method match one of our
presets are listed.
"""
from __future__ import annotations

SOURCE = "AWQ paper (Lin et al. 2023) Table 4, LLaMA-2-7B WikiText-2"
FP16_PPL = 5.47
# preset -> perplexity
LLAMA2_7B_PPL = {
    "w4a16-g128": 5.73, "w4a16-g128-gptq": 5.69, "w4a16-g128-awq": 5.60,
    "w3a16-g128": 6.66, "w3a16-g128-gptq": 6.43, "w3a16-g128-awq": 6.24,
}


def llama2_7b_ppl_ratio(preset: str) -> float | None:
    """Published LLaMA-2-7B perplexity / float16 perplexity of ``preset``, or None."""
    ppl = LLAMA2_7B_PPL.get(preset)
    return None if ppl is None else ppl / FP16_PPL
