"""Timings of the LLM fidelity path (a script, not a timed test):

    python -P -m lowbit.models.fidelity.bench [--model smollm2] [--scheme w4a16-g128]
                                              [--torch-threads N] [--only-scheme]

Prints, in wall and process-CPU seconds (CPU: every thread of this process; on a machine
shared with other jobs wall time mostly measures them), with the load average at the start:
the one-time model load, the reference forward over the evaluation tokens (the peer: the
unquantized model's forward over the same tokens), one scheme's fidelity after those (quantize
every decoder linear by the scheme's method + the quantized forward + metrics; the metrics are
printed, so that two runs can be checked bit for bit) and its ratio to the reference forward,
then (unless --only-scheme) the calibration forward collecting input statistics and GPTQ over
every decoder linear layer (210 on SmolLM2) as the fidelity path runs it (layers reading one
input as one stacked weight, lowbit.models.ptq.quantize_linears). No cache is read or written.
numba runs on one thread, as lowbit.models.fidelity.llm.evaluate runs it; torch on
--torch-threads (default: torch's; a sweep's workers run one each).
"""
from __future__ import annotations

import argparse
import os
import time


def _timed(label: str, fn):
    """(fn(), wall seconds, CPU seconds), the times printed after ``label``."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<56} {wall:8.1f} s wall {cpu:8.1f} s CPU", flush=True)
    return value, wall, cpu


def main(argv=None) -> int:
    import torch

    from lowbit.hwsim import quant
    from lowbit.models import ptq
    from lowbit.models.fidelity import llm
    from lowbit.models.fidelity.quantized import one_numba_thread
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=llm.SMOLLM2)
    parser.add_argument("--scheme", default="w4a16-g128",
                        help="a preset (any method; gptq/awq/smoothquant include the "
                             "calibration forward)")
    parser.add_argument("--torch-threads", type=int, default=None)
    parser.add_argument("--only-scheme", action="store_true",
                        help="stop after one scheme's fidelity (no calibration forward, no GPTQ)")
    args = parser.parse_args(argv)
    if args.torch_threads is not None:
        torch.set_num_threads(args.torch_threads)
    scheme = quant.preset(args.scheme)
    print(f"model {llm.model_name(args.model)}, torch threads {torch.get_num_threads()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"{llm.EVAL_TOKENS} evaluation / {llm.CALIB_TOKENS} calibration tokens", flush=True)
    (_, tokenizer), *_ = _timed("load (once per process)", lambda: llm.load(args.model))
    eval_ids, calib_ids = llm.token_sets(tokenizer)
    with one_numba_thread():
        reference, ref_wall, ref_cpu = _timed("reference forward (once per process)",
                                              lambda: llm.reference(args.model, eval_ids))
        metrics, wall, cpu = _timed(
            f"one scheme's fidelity ({scheme.label})",
            lambda: llm.compare(reference, llm.quantized_model(args.model, scheme, calib_ids),
                                eval_ids))
        print(f"  ÷ reference forward: {wall / ref_wall:.2f}x wall, {cpu / ref_cpu:.2f}x CPU; "
              f"torch threads {torch.get_num_threads()}; {metrics}", flush=True)
        if args.only_scheme:
            print(f"load average at the end {os.getloadavg()[0]:.1f}")
            return 0
        float_model, _ = llm.load(args.model)
        stats, *_ = _timed("calibration forward (Hessians, AWQ/SmoothQuant stats)",
                           lambda: llm.calibration_stats(args.model, float_model, calib_ids))
        gptq_scheme = quant.preset("w4a16-g128-gptq")
        linears = llm._decoder_linears(float_model)
        groups = llm._input_groups(linears)
        _timed(f"GPTQ over all {len(linears)} linear layers ({gptq_scheme.label})",
               lambda: [ptq.quantize_linears([linears[name] for name in names], gptq_scheme,
                                             stats[group])
                        for group, names in groups.items()])
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
