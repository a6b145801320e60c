"""The narrowest PE accumulator per scheme that keeps a causal LM's next-token KL within a
tolerance of the wide-accumulator result, and what it saves in PE area and MAC energy:

    python -P -m lowbit.models.fidelity.accumulator [--schemes int8,int4-g128]
        [--overflows wrap] [--eval-tokens 4096] [--tolerance 0.01] [--model smollm2]
        [--record measurements.jsonl]

For each scheme and overflow policy: the wide result (a 32-bit wrapping accumulator), whose pass
also measures the no-overflow width W0 (lowbit.hwsim.gemm.required_acc_bits over every GEMM of
the evaluation: at W0 or wider nothing wraps, so the result is the wide one bit for bit), then
widths W0 - 1, W0 - 2, ... until one's KL exceeds (1 + tolerance) * the wide KL; the narrowest
passing width is the answer (for "saturate" the scan starts at W0 too: saturation can clamp a
partial sum even where the final sum fits, so W0 is measured, not assumed). Every width measured
is printed (with its wall and CPU seconds), so a non-monotone step shows; ``--record PATH``
also appends each one to PATH as a JSON line as soon as it is measured. Fidelity runs through
lowbit.hwsim.gemm (lowbit.models.fidelity.quantized.pe_arithmetic) on
lowbit.models.fidelity.llm's text, ``--eval-tokens`` evaluation tokens (default: the llm module's
standard 4,096; every evaluation through bit-exact GEMMs costs about eval_tokens x 106 M MACs on
SmolLM2, some 200 CPU seconds at 4,096).

Cost of the 16-lane int_mac PE running the scheme (lowbit.models.cost.cycles.map_scheme), wide
and at the narrowest width: yosys CMOS transistors from rtl/data/synth.json (the rtl/synth flow;
"not synthesized" when the committed data has no row for that width) and the energy of one MAC
(lowbit.models.cost.energy.mac_energy: the multiply plus an acc_bits-wide add).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time

WIDE_BITS = 32
LANES = 16


def measure(model: str, scheme, arithmetic, eval_tokens: int, observe=None) -> dict:
    """llm.evaluate of ``scheme`` through ``arithmetic`` (no cache)."""
    from lowbit.models.fidelity import llm
    from lowbit.models.fidelity.quantized import pe_arithmetic
    with pe_arithmetic(arithmetic, observe):
        return llm.evaluate(scheme, model=model, eval_tokens=eval_tokens)


def timed_measure(model: str, scheme, arithmetic, eval_tokens: int, observe=None) -> dict:
    """``measure``'s result plus its ``wall_s`` and ``cpu_s`` (this process's CPU seconds, every
    thread included; model loading and the float reference are part of each evaluation)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = measure(model, scheme, arithmetic, eval_tokens, observe)
    return {**result, "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}


def record(path, row: dict) -> None:
    """Append ``row`` to ``path`` as one JSON line (nothing when ``path`` is None)."""
    if path is not None:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(row) + "\n")


def narrowest(fits, start: int, lowest: int) -> int:
    """The narrowest width w in [lowest, start] such that fits(v) holds for every v in
    [w, start], scanning down from ``start`` (assumed to fit) to the first that does not."""
    width = start
    while width > lowest and fits(width - 1):
        width -= 1
    return width


def pe_cost(scheme, acc_bits: int) -> dict:
    """Transistors (yosys, or None when not synthesized) and J per MAC of the 16-lane int_mac PE
    running ``scheme`` with an ``acc_bits`` accumulator."""
    from lowbit.hwsim.pe import kinds
    from lowbit.models.cost import area, cycles, energy
    mapping = dataclasses.replace(cycles.map_scheme("int_mac", scheme), acc_bits=acc_bits)
    config = cycles.pe_config(mapping, LANES)
    row = kinds.get("int_mac")
    transistors = area.find_transistors(area.load_records(), row.rtl_design,
                                        row.rtl_config(config))
    return {"transistors": None if transistors is None else int(transistors),
            "mac_j": energy.mac_energy(config, mapping.w_bits)}


def main(argv=None) -> int:
    from lowbit.hwsim import gemm, quant
    from lowbit.hwsim.bench.table import format_table
    from lowbit.models.fidelity import llm
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=llm.SMOLLM2)
    parser.add_argument("--schemes", default="int8,int4-g128")
    parser.add_argument("--overflows", default="wrap", help="comma-separated: wrap, saturate")
    parser.add_argument("--eval-tokens", type=int, default=llm.EVAL_TOKENS)
    parser.add_argument("--tolerance", type=float, default=0.01)
    parser.add_argument("--lowest", type=int, default=8)
    parser.add_argument("--record", default=None,
                        help="append every measurement to this file as a JSON line")
    args = parser.parse_args(argv)
    rows, answers = [], []
    for name in args.schemes.split(","):
        scheme = quant.preset(name)
        for overflow in args.overflows.split(","):
            measured, needs = {}, []

            def kl(acc_bits: int, scheme=scheme, overflow=overflow, measured=measured,
                   observe=None) -> float:
                arithmetic = gemm.PEArithmetic(acc_bits=acc_bits, overflow=overflow)
                result = timed_measure(args.model, scheme, arithmetic, args.eval_tokens, observe)
                measured[acc_bits] = result
                print(f"  {name} {arithmetic.label}: KL {result['kl']:.5f}, ppl ratio "
                      f"{result['ppl_ratio']:.4f}, top-1 {result['top1']:.4f} "
                      f"({result['wall_s']:.0f} s wall, {result['cpu_s']:.0f} s CPU)", flush=True)
                record(args.record, {"scheme": name, "overflow": overflow, "acc_bits": acc_bits,
                                     **{key: result[key] for key in _RECORDED}})
                return result["kl"]

            bar = (1 + args.tolerance) * kl(
                WIDE_BITS, observe=lambda qa, qw: needs.append(gemm.required_acc_bits(qa, qw)))
            no_overflow = max(needs)
            print(f"  {name}: every group sum fits {no_overflow} bits", flush=True)
            record(args.record, {"scheme": name, "overflow": overflow,
                                 "eval_tokens": args.eval_tokens, "no_overflow_bits": no_overflow})
            start = no_overflow if overflow == "wrap" or kl(no_overflow) <= bar else WIDE_BITS
            width = narrowest(lambda bits: kl(bits) <= bar, start, args.lowest)
            for acc_bits in sorted(measured):
                result = measured[acc_bits]
                rows.append({"scheme": name, "overflow": overflow, "acc_bits": acc_bits,
                             "sums_exceed_width": acc_bits < no_overflow,
                             "kl": result["kl"], "ppl_ratio": result["ppl_ratio"],
                             "top1": result["top1"], "within": result["kl"] <= bar})
            wide, narrow = pe_cost(scheme, WIDE_BITS), pe_cost(scheme, width)
            answers.append({"scheme": name, "overflow": overflow, "no_overflow_bits": no_overflow,
                            "narrowest_acc_bits": width,
                            "transistors_32": wide["transistors"],
                            "transistors_narrow": narrow["transistors"] or "not synthesized",
                            "area_saving": _saving(wide["transistors"], narrow["transistors"]),
                            "mac_pj_32": wide["mac_j"] * 1e12, "mac_pj_narrow": narrow["mac_j"] * 1e12,
                            "energy_saving": _saving(wide["mac_j"], narrow["mac_j"])})
    print(f"model {llm.model_name(args.model)}, {args.eval_tokens} evaluation tokens; KL bar: "
          f"(1 + {args.tolerance:g}) x the {WIDE_BITS}-bit accumulator's KL")
    print(format_table(rows, tuple(rows[0])))
    print(format_table(answers, tuple(answers[0])))
    return 0


_RECORDED = ("kl", "ppl_ratio", "top1", "ppl", "ref_ppl", "positions", "eval_tokens", "model",
             "wall_s", "cpu_s")


def _saving(wide, narrow) -> str:
    if wide is None or narrow is None:
        return "n/a"
    return f"{(narrow - wide) / wide:+.1%}"


if __name__ == "__main__":
    raise SystemExit(main())
