"""Which real model stands in for a workload's fidelity (the report names it).

Decoder-only LLM workloads (lowbit.models.workloads.CAUSAL_LM: llama2-7b, llama3-8b): a causal
LM, SmolLM2-135M-Instruct unless the environment variable LOWBIT_LLM_FIDELITY_MODEL names
another ("smollm2", or the path of a local model folder or GGUF file that transformers loads).
Other transformers (BERT, MiniLM): all-MiniLM-L6-v2. CNNs: the digits CNN.
"""
from __future__ import annotations

import os

LLM_MODEL_ENV = "LOWBIT_LLM_FIDELITY_MODEL"
FAMILY_MODEL = {"transformer": "minilm", "cnn": "digits_cnn"}


def workload_model(workload: str) -> str:
    """The fidelity model name (lowbit.models.fidelity.cache) of ``workload``."""
    from lowbit.models import workloads
    from lowbit.models.fidelity import cache, llm
    if workload not in workloads.FAMILY:
        raise ValueError(f"workload must be one of {', '.join(workloads.names())}, "
                         f"got {workload!r}")
    if workload not in workloads.CAUSAL_LM:
        return FAMILY_MODEL[workloads.FAMILY[workload]]
    model = os.environ.get(LLM_MODEL_ENV) or llm.SMOLLM2
    if not cache.is_llm(model):
        raise ValueError(f"{LLM_MODEL_ENV} must be 'smollm2' or the path of a local causal LM "
                         f"(model folder or .gguf file); got {model!r}")
    return model
