"""`lowbit fidelity`: a causal LM's fidelity per quantization scheme x PTQ method.

    lowbit fidelity [--model smollm2|FOLDER|FILE.gguf] [--schemes w4a16-g128,w4a16-g128-gptq]
                    [--out table.csv]

Measures every scheme (a lowbit.hwsim.quant preset; its method is part of it) with
lowbit.models.fidelity.llm through the result cache and prints one row per scheme: perplexity
and its ratio to the float32 reference, mean next-token KL, top-1 agreement, the calibration
and evaluation token counts, whether the scheme's grid contains the reference's (SmolLM2's
weights are Q4_1), and the published LLaMA-2-7B perplexity ratio where one exists. Schemes are
checked before any is measured.
"""
from __future__ import annotations

HELP = "measure a causal LM's perplexity ratio, next-token KL and top-1 per scheme x method"
# Default rows: the LLM presets, reference first, then by weight bits.
DEFAULT_SCHEMES = ("fp16", "int8", "w8a8-smoothquant", "fp8-e4m3", "mxfp8", "w8a8-kv8",
                   "w8a8-kv4", "int4-g128-a16", "w4a16-g128", "w4a16-g128-gptq",
                   "w4a16-g128-awq", "int4-g128", "mxfp6", "w3a16-g128", "w3a16-g128-gptq",
                   "w3a16-g128-awq", "w4a4", "w4a4-rotation", "mxfp4", "w2a16-g64",
                   "w2a16-g64-gptq")
COLUMNS = ("scheme", "label", "method", "ppl", "ppl_ratio", "kl", "top1", "calib_tokens",
           "eval_tokens", "on_reference_grid", "llama2_7b_ppl_ratio")


def configure(parser) -> None:
    parser.add_argument("--model", default="smollm2",
                        help="'smollm2' (default) or a local causal LM: model folder or .gguf")
    parser.add_argument("--schemes", default=None,
                        help=f"comma-separated presets (default: {','.join(DEFAULT_SCHEMES)})")
    parser.add_argument("--out", default=None, help="CSV file to write the rows to")


def run(args) -> int:
    from lowbit.hwsim import quant
    from lowbit.models.fidelity import cache, llm, published
    from lowbit.hwsim.bench.table import format_table
    from lowbit.sweeps.commands.rank import _check_names, _split
    from lowbit.sweeps.report import write_table
    if not cache.is_llm(args.model):
        raise ValueError(f"--model must be 'smollm2' or a local causal LM (model folder or "
                         f".gguf file); got {args.model!r}")
    schemes = _split(args.schemes) or list(DEFAULT_SCHEMES)
    _check_names("--schemes", schemes, quant.preset_names())
    print(f"model: {llm.model_name(args.model)}; text: {llm.TEXT_SOURCE}, {llm.EVAL_TOKENS} "
          f"evaluation tokens, {llm.CALIB_TOKENS} disjoint calibration tokens (gptq, awq, "
          f"smoothquant); metrics against the float32 model", flush=True)
    if args.model == llm.SMOLLM2:
        print("reference weights are SmolLM2's Q4_1 values dequantized: schemes with "
              "on_reference_grid=yes are measured on weights already on their grid", flush=True)
    rows = []
    for name in schemes:
        scheme = quant.preset(name)
        result = cache.result(args.model, scheme)
        ratio = published.llama2_7b_ppl_ratio(name)
        rows.append({"scheme": name, "label": scheme.label, "method": scheme.method,
                     **{key: result[key] for key in ("ppl", "ppl_ratio", "kl", "top1",
                                                     "calib_tokens", "eval_tokens")},
                     "on_reference_grid": "yes" if result["reference_on_grid"] else "no",
                     "llama2_7b_ppl_ratio": "" if ratio is None else ratio})
        print(f"  {name}: ppl ratio {result['ppl_ratio']:.4g}", flush=True)
    print(format_table(rows, COLUMNS))
    print(f"reference perplexity {result['ref_ppl']:.4g}; llama2_7b_ppl_ratio: "
          f"{published.SOURCE}")
    if args.out:
        write_table(rows, args.out)
    return 0
