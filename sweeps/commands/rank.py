"""`lowbit rank`: rank quantization schemes x PE kinds for a workload.

    lowbit rank --workload llama2-7b [--min-fidelity 0.99] [--out ranking.csv]
                [--lanes 16] [--array 256 | --area-mm2 8 | --throughput-gmacs 500]
                [--batch 1] [--seq-len 128]
                [--generated 128] [--node 45] [--dram ddr4]
                [--schemes int8,int4-g128] [--pes lut,int_mac]
                [--fidelity-model llama2-7b=FOLDER|FILE.gguf]

Evaluates every applicable (scheme, PE) pair with lowbit.models.evaluator.evaluate_point, ranks them by the
stated scalar score (lowbit.models.rank.RANK_WEIGHTS), marks the Pareto front, prints a table (with the
proxy model and sample count each fidelity comes from) and writes every column of every row to
the CSV with the sweeps' writer (lowbit.sweeps.report.write_table). An LLM workload is served
(prefill of the --seq-len prompt, --generated decode steps): a second table shows prefill and
decode separately. --area-mm2 compares PE kinds at equal area (each array the largest that
fits) and --throughput-gmacs at equal peak throughput (each array the smallest that meets it;
a PE kind that would need a die beyond the reticle limit is listed as not evaluated, with the
reason), instead of --array PEs of every kind. --fidelity-model measures an LLM workload's
fidelity on a local causal LM instead of SmolLM2 (lowbit.models.fidelity.proxy). Every
argument is checked before any point is evaluated. Same inputs, same table.
"""
from __future__ import annotations

import math
from pathlib import Path

from lowbit.hwsim.bench.table import format_table

HELP = "rank quantization schemes x PEs for a workload by fidelity, energy, latency, area"


def configure(parser) -> None:
    parser.add_argument("--workload", required=True, help="a lowbit.models.workloads name")
    parser.add_argument("--min-fidelity", type=float, default=None,
                        help="keep rows with fidelity >= this (cosine or top-1, 0..1)")
    parser.add_argument("--out", default=None, help="CSV file to write the ranked rows to")
    parser.add_argument("--lanes", type=int, default=16, help="lanes per PE (default 16)")
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--array", type=int, default=None, help="number of PEs (default 256)")
    sizes.add_argument("--area-mm2", type=float, default=None,
                       help="area budget in mm²: each PE kind gets the largest array that fits")
    sizes.add_argument("--throughput-gmacs", type=float, default=None,
                       help="peak GMAC/s target: each PE kind gets the smallest array that "
                            "meets it")
    parser.add_argument("--batch", type=int, default=1,
                        help="inputs per forward pass: the GEMMs' M scales with it (default 1)")
    parser.add_argument("--seq-len", type=int, default=128,
                        help="sequence length (an LLM's prompt length; default 128)")
    parser.add_argument("--generated", type=int, default=None,
                        help="tokens an LLM workload generates (default 128)")
    parser.add_argument("--node", type=int, default=45, help="technology node in nm (default 45)")
    parser.add_argument("--dram", default="ddr4", help="DRAM kind (default ddr4)")
    parser.add_argument("--schemes", default=None,
                        help="comma-separated lowbit.hwsim.quant presets (default: all)")
    parser.add_argument("--pes", default=None, help="comma-separated PE kinds (default: all)")
    parser.add_argument("--fidelity-model", default=None, metavar="WORKLOAD=MODEL",
                        help="measure the (LLM) workload's fidelity on MODEL: a local causal LM "
                             "(model folder or .gguf file) or 'smollm2' (the default)")


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [item.strip() for item in text.split(",") if item.strip()]


def _check_names(argname: str, given: list[str] | None, allowed: list[str]) -> None:
    unknown = [name for name in given or () if name not in allowed]
    if unknown:
        raise ValueError(f"{argname} must name values among {', '.join(allowed)}; "
                         f"unknown: {', '.join(unknown)}")


def _check_positive(args) -> None:
    for option in ("lanes", "array", "batch", "seq_len", "generated"):
        value = getattr(args, option)
        if value is not None and value < 1:
            raise ValueError(f"--{option.replace('_', '-')} must be a positive integer, "
                             f"got {value}")


def _check_lanes(schemes: list[str], pes: list[str], lanes: int) -> list[tuple[str, str]]:
    """The applicable (scheme, pe) pairs; ValueError naming --lanes when a PE cannot take
    ``lanes`` lanes (checked on the PE config before any point is evaluated)."""
    from lowbit.models import evaluator
    pairs = [(scheme, pe) for scheme in schemes for pe in pes if evaluator.applies(scheme, pe)]
    for scheme, pe in pairs:
        try:
            evaluator.check_lanes(scheme, pe, lanes)
        except ValueError as exc:
            raise ValueError(f"--lanes {lanes} does not suit the {pe} PE ({exc})") from None
    return pairs


def _fidelity_model(assignment: str | None, workload: str) -> str | None:
    """The checked model of ``--fidelity-model WORKLOAD=MODEL`` (WORKLOAD must be --workload)."""
    from lowbit.models import evaluator
    from lowbit.sweeps.config import split_assignment
    if assignment is None:
        return None
    named, model = split_assignment(assignment, "--fidelity-model")
    if named != workload:
        raise ValueError(f"--fidelity-model names workload {named!r}, but --workload is "
                         f"{workload!r}")
    return evaluator.check_fidelity_model(workload, model)


def run(args) -> int:
    from lowbit.hwsim import quant
    from lowbit.hwsim.pe import kinds
    from lowbit.models import evaluator, rank, workloads
    from lowbit.models.cost import dram, technology
    from lowbit.sweeps.evaluator import no_pair_applies
    from lowbit.sweeps.report import write_table
    if args.workload not in workloads.names():
        raise ValueError(f"--workload must be one of {', '.join(workloads.names())}, "
                         f"got {args.workload!r}")
    rank.check_min_fidelity(args.min_fidelity, "--min-fidelity")
    if args.area_mm2 is None and args.array is None and args.throughput_gmacs is None:
        args.array = 256
    for option in ("area_mm2", "throughput_gmacs"):
        value = getattr(args, option)
        if value is not None and not value > 0:
            raise ValueError(f"--{option.replace('_', '-')} must be a positive number, "
                             f"got {value}")
    _check_positive(args)
    if args.generated is not None and args.workload not in workloads.LLM_NAMES:
        raise ValueError(f"--generated applies only to LLM workloads "
                         f"({', '.join(workloads.LLM_NAMES)})")
    _check_names("--node", [str(args.node)], [str(node) for node in technology.NODES_NM])
    _check_names("--dram", [args.dram], list(dram.KINDS))
    fidelity_model = _fidelity_model(args.fidelity_model, args.workload)
    schemes, pes = _split(args.schemes), _split(args.pes)
    _check_names("--schemes", schemes, quant.preset_names())
    _check_names("--pes", pes, list(kinds.names()))
    schemes = quant.preset_names() if schemes is None else schemes
    pes = list(kinds.names()) if pes is None else pes
    if not _check_lanes(schemes, pes, args.lanes):
        raise ValueError("--schemes x --pes: "
                         + no_pair_applies(schemes, pes, evaluator.why_not))
    skipped = []
    rows = evaluator.evaluate_all(args.workload, args.lanes, args.array, batch=args.batch,
                                  seq_len=args.seq_len, schemes=schemes, pes=pes,
                                  area_mm2=args.area_mm2, throughput_gmacs=args.throughput_gmacs,
                                  generated=args.generated, node=args.node, dram=args.dram,
                                  fidelity_model=fidelity_model, skipped=skipped)
    table = rank.ranked_table(rows, args.min_fidelity)
    # a CNN's input is an image: the sequence length means nothing to it
    seq_len = f"seq_len {args.seq_len}, " if workloads.FAMILY[args.workload] != "cnn" else ""
    print(f"workload {args.workload}, batch {args.batch}, {seq_len}{_size_words(args)} x "
          f"{args.lanes} lanes, {args.node} nm, {args.dram}, each PE at the clock its "
          f"synthesized critical path reaches; score weights {rank.RANK_WEIGHTS} (fidelity per "
          f"{rank.FIDELITY_STEP:g} below the best); pareto over "
          f"{', '.join(rank.PARETO_OBJECTIVES)}")
    for scheme, pe, reason in skipped:
        print(f"not evaluated: {scheme} on {pe}: {reason}")
    if not rows:
        print("no (scheme, pe) pair could be evaluated")
        return 1
    proxies = sorted({(row["fidelity_model"], row["fidelity_metric"], row["fidelity_samples"])
                      for row in rows})
    for model, metric, samples in proxies:
        print(f"fidelity: {metric} of the proxy model {model} over {samples} samples")
    if not table:
        print(f"no row reaches fidelity >= {args.min_fidelity}")
        return 1
    print(format_table(table, [column for column in rank.TABLE_COLUMNS
                               if any(column in row for row in table)]))
    if args.workload in workloads.LLM_NAMES:
        print(f"LLM serving: prefill of {args.seq_len}-token prompts, then "
              f"{table[0]['generated']} decode steps (one per generated token)")
        print(format_table(table, rank.SERVING_COLUMNS))
    notes = sorted({row["area_note"] for row in table if math.isnan(row["area_m2"])})
    for note in notes:
        print(f"area missing (left out of the area objective, scored on the rest): {note}")
    if args.out:
        write_table(table, Path(args.out))
        print(f"wrote {len(table)} rows to {args.out}")
    return 0


def _size_words(args) -> str:
    """How the arrays are sized, for the table's header."""
    if args.area_mm2 is not None:
        return f"equal area {args.area_mm2:g} mm² (each array the largest that fits)"
    if args.throughput_gmacs is not None:
        return (f"equal throughput {args.throughput_gmacs:g} GMAC/s peak (each array the "
                f"smallest that meets it)")
    return f"{args.array} PEs"
