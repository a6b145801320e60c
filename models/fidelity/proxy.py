"""Which real model stands in for a workload's fidelity (the report names it).

Decoder-only LLM workloads (lowbit.models.workloads.CAUSAL_LM: llama2-7b, llama3-8b): a causal
LM, SmolLM2-135M-Instruct unless one is named — per workload by a sweep config's
``[fidelity_models]`` table or ``--fidelity-model WORKLOAD=PATH`` (which reach the evaluator as
the design point's ``fidelity_model``), else for every LLM workload by the environment variable
LOWBIT_LLM_FIDELITY_MODEL ("smollm2", or the path of a local model folder or GGUF file that
transformers loads). A sweep puts the environment's model into each LLM point as its
``fidelity_model`` (``environment_model``), so it is part of the point key like a named one.
Other transformers (BERT, MiniLM): all-MiniLM-L6-v2. CNNs: the digits CNN; neither takes
another model.
"""
from __future__ import annotations

import os
from pathlib import Path

LLM_MODEL_ENV = "LOWBIT_LLM_FIDELITY_MODEL"
FAMILY_MODEL = {"transformer": "minilm", "cnn": "digits_cnn"}


def workload_model(workload: str, model: str | None = None) -> str:
    """The fidelity model name (lowbit.models.fidelity.cache) of ``workload``: ``model`` when
    given (checked by ``check_model``), else the default of the module docstring."""
    _check_workload(workload)
    if model is not None:
        return check_model(workload, model)
    from lowbit.models import workloads
    from lowbit.models.fidelity import llm
    if workload not in workloads.CAUSAL_LM:
        return FAMILY_MODEL[workloads.FAMILY[workload]]
    return environment_model(workload) or llm.SMOLLM2


def environment_model(workload: str) -> str | None:
    """The model LOWBIT_LLM_FIDELITY_MODEL names for ``workload``, as ``check_model`` returns
    it (a path made absolute); None when the variable is unset or empty or the workload is not
    a decoder-only LLM workload. ValueError naming the variable when it names no causal LM."""
    from lowbit.models import workloads
    from lowbit.models.fidelity import cache
    _check_workload(workload)
    model = os.environ.get(LLM_MODEL_ENV)
    if not model or workload not in workloads.CAUSAL_LM:
        return None
    if not cache.is_llm(model):
        raise ValueError(f"{LLM_MODEL_ENV} must be 'smollm2' or the path of a local causal LM "
                         f"(model folder or .gguf file); got {model!r}")
    return check_model(workload, model)


def check_model(workload: str, model) -> str:
    """``model`` as the named fidelity model of ``workload``, as the cache keys it: "smollm2",
    or the absolute path of a local causal LM (a model folder holding config.json or a .gguf
    file). ValueError when the workload is not a decoder-only LLM
    workload (only those take a named model) or the model is none of these."""
    from lowbit.models import workloads
    from lowbit.models.fidelity import cache, llm
    _check_workload(workload)
    if workload not in workloads.CAUSAL_LM:
        raise ValueError(f"only the decoder-only LLM workloads "
                         f"({', '.join(workloads.CAUSAL_LM)}) take a fidelity model; "
                         f"{workload!r} keeps {workload_model(workload)}")
    if not cache.is_llm(model):
        raise ValueError(f"the fidelity model of {workload} must be 'smollm2' or the path of a local causal "
                         f"LM (a model folder holding config.json, or a .gguf file); "
                         f"got {model!r}")
    return model if model == llm.SMOLLM2 else str(Path(model).resolve())


def _check_workload(workload) -> None:
    from lowbit.models import workloads
    if workload not in workloads.FAMILY:
        raise ValueError(f"workload must be one of {', '.join(workloads.names())}, "
                         f"got {workload!r}")
