"""Timings of the LLM fidelity path (a script, not a timed test):

    python -P -m lowbit.models.fidelity.bench [--model smollm2] [--scheme w4a16-g128]

Prints, in seconds: the one-time model load, the reference forward over the evaluation tokens,
one scheme's fidelity after those (RTN: quantize every decoder linear + the quantized forward),
the calibration forward collecting input Hessians, and GPTQ over every decoder linear layer
(210 on SmolLM2) with those Hessians. No cache is read or written. Torch runs on
torch.get_num_threads() threads (printed).
"""
from __future__ import annotations

import argparse
import time


def _timed(label: str, fn):
    start = time.perf_counter()
    value = fn()
    print(f"{label:<48} {time.perf_counter() - start:8.1f} s", flush=True)
    return value


def main(argv=None) -> int:
    import torch

    from lowbit.hwsim import quant
    from lowbit.models import ptq
    from lowbit.models.fidelity import llm
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=llm.SMOLLM2)
    parser.add_argument("--scheme", default="w4a16-g128", help="an RTN preset")
    args = parser.parse_args(argv)
    scheme = quant.preset(args.scheme)
    print(f"model {llm.model_name(args.model)}, torch threads {torch.get_num_threads()}, "
          f"{llm.EVAL_TOKENS} evaluation / {llm.CALIB_TOKENS} calibration tokens")
    _, tokenizer = _timed("load (once per process)", lambda: llm.load(args.model))
    eval_ids, calib_ids = llm.token_sets(tokenizer)
    reference = _timed("reference forward (once per process)",
                       lambda: llm.reference(args.model, eval_ids))
    network = _timed(f"quantize every linear ({scheme.label})",
                     lambda: llm.quantized_model(args.model, scheme, calib_ids))
    _timed(f"quantized forward + metrics ({scheme.label})",
           lambda: llm.compare(reference, network, eval_ids))
    float_model, _ = llm.load(args.model)
    stats = _timed("calibration forward (Hessians, AWQ/SmoothQuant stats)",
                   lambda: llm.calibration_stats(args.model, float_model, calib_ids))
    gptq_scheme = quant.preset("w4a16-g128-gptq")
    linears = llm._decoder_linears(float_model)
    _timed(f"GPTQ over all {len(linears)} linear layers ({gptq_scheme.label})",
           lambda: [ptq.gptq(linear.weight.detach().float(),
                             stats[llm._input_group(name)].hessian
                             / stats[llm._input_group(name)].rows, gptq_scheme.weight_spec)
                    for name, linear in linears.items()])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
