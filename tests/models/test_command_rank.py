import csv
import math

import pytest

from lowbit.sweeps import cli


def test_rank_prints_and_writes_csv(seeded_cache, tmp_path, capsys):
    seeded_cache("minilm", "int4-g128", 0.93)
    seeded_cache("minilm", "log2_4", 0.91)
    out = tmp_path / "rank.csv"
    argv = ["rank", "--workload", "bert-base", "--schemes", "int4-g128,log2_4", "--pes",
            "lut,shift_add,int_mac", "--min-fidelity", "0.92", "--out", str(out)]
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    assert "int4-g128" in text and "log2_4" not in text.split("pareto over")[1]  # filtered out
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["rank"], r["scheme"]) for r in rows] == [("1", "int4-g128"), ("2", "int4-g128")]
    first = out.read_text()
    assert cli.main(argv) == 0
    assert out.read_text() == first        # reproducible


def test_rank_bad_input(seeded_cache, capsys):
    assert cli.main(["rank", "--workload", "gpt9"]) == 2
    assert "--workload must be one of bert-base" in capsys.readouterr().err
    assert cli.main(["rank", "--workload", "bert-base", "--pes", "lut,gpu"]) == 2
    assert "--pes must name values among int_mac" in capsys.readouterr().err
    assert cli.main(["rank", "--workload", "bert-base", "--schemes", "log2_4", "--pes",
                     "lut"]) == 2
    assert "no (scheme, pe) pair" in capsys.readouterr().err


def test_rank_llm_shows_prefill_and_decode_at_equal_area(seeded_cache, tiny_llama, capsys):
    assert cli.main(["rank", "--workload", "llama2-7b", "--schemes", "int4-g128", "--pes",
                     "int_mac,lut", "--area-mm2", "8", "--generated", "2",
                     "--fidelity-model", f"llama2-7b={tiny_llama}"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"fidelity: ref_ppl/ppl of the proxy model {tiny_llama} over 4096 samples" in lines
    assert "equal area 8 mm² (each array the largest that fits)" in lines[0]
    at = lines.index("LLM serving: prefill of 128-token prompts, then 2 decode steps (one per "
                     "generated token)")
    header = lines[at + 1].split()
    assert {"prefill_latency_s", "prefill_j_per_token", "decode_tokens_per_s",
            "decode_j_per_token", "j_per_token"} <= set(header)
    assert len(lines) == at + 4              # one row per design
    assert cli.main(["rank", "--workload", "resnet18", "--generated", "2"]) == 2
    assert "--generated applies only to LLM workloads" in capsys.readouterr().err


def test_rank_at_equal_throughput(seeded_cache, tmp_path, capsys):
    seeded_cache("minilm", "int8", 0.99)
    out = tmp_path / "rank.csv"
    assert cli.main(["rank", "--workload", "bert-base", "--schemes", "int8", "--pes",
                     "int_mac,bit_serial", "--throughput-gmacs", "500", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "equal throughput 500 GMAC/s peak (each array the smallest that meets it)" in text
    with open(out, newline="") as handle:
        rows = {r["pe"]: r for r in csv.DictReader(handle)}
    for pe, macs_per_cycle in (("int_mac", 16), ("bit_serial", 16 / 8)):   # int8 weights
        per_pe = macs_per_cycle * float(rows[pe]["clock_hz"])
        assert int(rows[pe]["array"]) == math.ceil(500e9 / per_pe)
        assert float(rows[pe]["peak_gmacs"]) >= 500


def test_rank_lists_the_pes_that_cannot_meet_a_throughput(seeded_cache, capsys):
    seeded_cache("minilm", "int8", 0.99)
    assert cli.main(["rank", "--workload", "bert-base", "--schemes", "int8", "--pes",
                     "bit_serial", "--throughput-gmacs", "1e6"]) == 1
    text = capsys.readouterr().out
    assert "not evaluated: int8 on bit_serial: the bit_serial PE cannot meet the target" in text
    assert "858 mm^2 limit (reticle, 26 x 33 mm)" in text


def test_rank_names_the_fidelity_proxy(seeded_cache, capsys):
    seeded_cache("minilm", "int8", 0.99)
    assert cli.main(["rank", "--workload", "bert-base", "--schemes", "int8", "--pes",
                     "int_mac"]) == 0
    text = capsys.readouterr().out
    assert "fidelity: cosine of the proxy model all-MiniLM-L6-v2 over 206 samples" in text
    header = text.splitlines()[2].split()
    assert {"fidelity_model", "fidelity_samples", "energy_mac_j", "energy_sram_j",
            "energy_dram_j"} <= set(header)


@pytest.mark.parametrize("argv, message", [
    (["--min-fidelity", "1.5"], "--min-fidelity must be a number in 0..1"),
    (["--min-fidelity", "-0.1"], "--min-fidelity must be a number in 0..1"),
    (["--lanes", "0"], "--lanes must be a positive integer"),
    (["--array", "-4"], "--array must be a positive integer"),
    (["--seq-len", "0"], "--seq-len must be a positive integer"),
    (["--batch", "0"], "--batch must be a positive integer"),
    (["--generated", "0"], "--generated must be a positive integer"),
    (["--area-mm2", "0"], "--area-mm2 must be a positive number"),
    (["--throughput-gmacs", "-5"], "--throughput-gmacs must be a positive number"),
    (["--node", "28"], "--node must name values among 45, 20, 16, 14, 10, 7"),
    (["--dram", "hbm3"], "--dram must name values among ddr4, hbm2, hbm2e"),
    (["--lanes", "6", "--pes", "lut"], "--lanes 6 does not suit the lut PE"),
    (["--fidelity-model", "/no/model"], "--fidelity-model must be WORKLOAD=MODEL"),
    (["--fidelity-model", "llama2-7b=/no/model"],
     "--fidelity-model names workload 'llama2-7b', but --workload is 'bert-base'"),
    (["--fidelity-model", "bert-base=/no/model"],
     "only the decoder-only LLM workloads (llama2-7b, llama3-8b) take a fidelity model"),
])
def test_rank_checks_arguments_before_evaluating(monkeypatch, capsys, argv, message):
    from lowbit.models import evaluator

    def refuse(*args, **kwargs):
        raise AssertionError("evaluated before the arguments were checked")
    monkeypatch.setattr(evaluator, "evaluate_all", refuse)
    monkeypatch.setattr(evaluator, "evaluate_point", refuse)
    assert cli.main(["rank", "--workload", "bert-base", *argv]) == 2
    assert message in capsys.readouterr().err


def test_rank_names_each_scheme_and_what_it_would_need(seeded_cache, capsys):
    assert cli.main(["rank", "--workload", "resnet18", "--schemes", "fp16,int4-g128-a16",
                     "--pes", "int_mac,fp8_mac"]) == 2
    err = capsys.readouterr().err
    assert ("fp16 on fp8_mac: scheme w16-a16 (weights float16, activations float16) does not "
            "run on the fp8_mac PE: its weights float16 fit none of float8_e4m3fn, float8_e5m2 "
            "(one format for both operands)") in err
    assert ("int4-g128-a16 on fp8_mac: scheme w4g128-a16 (weights int4, activations float16) "
            "does not run on the fp8_mac PE: its activations float16 do not fit "
            "float8_e4m3fn, the one format this PE takes for both operands") in err
    assert "int4-g128-a16 on int_mac:" in err and "fp16 on int_mac:" in err


def _table(text: str) -> list[dict]:
    """The first table of ``lowbit rank``'s output as records (header line: rank scheme ...)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["rank", "scheme"])
    header = lines[start].split()
    records = []
    for line in lines[start + 1:]:
        cells = line.split()
        if len(cells) != len(header):
            break
        records.append(dict(zip(header, cells)))
    return records


def test_rank_energy_columns_add_up_and_a_cnn_header_has_no_seq_len(seeded_cache, capsys):
    seeded_cache("digits_cnn", "int4-g128", 0.97)
    assert cli.main(["rank", "--workload", "resnet18", "--schemes", "int4-g128", "--pes",
                     "int_mac,lut"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("workload resnet18, batch 1, 256 PEs x 16 lanes")
    assert "seq_len" not in text.splitlines()[0]
    records = _table(text)
    assert len(records) == 2
    for record in records:
        terms = [float(record[key]) for key in record
                 if key.startswith("energy_") and key.endswith("_j") and key != "energy_j"]
        assert "energy_rescale_j" in record
        assert sum(terms) == pytest.approx(float(record["energy_j"]), rel=1e-3)


def test_rank_transformer_header_keeps_seq_len(seeded_cache, capsys):
    seeded_cache("minilm", "int8", 0.99)
    assert cli.main(["rank", "--workload", "bert-base", "--schemes", "int8", "--pes",
                     "int_mac"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("workload bert-base, batch 1, seq_len 128, 256 PEs")


def test_rank_costs_the_w16a16_baseline_and_w4a16(seeded_cache, tiny_llama, capsys):
    # issue 18: before the FP16 PEs no PE took float16 activations and this exited 2; the
    # tiny LLaMA measures fidelity (SmolLM2 would take minutes here)
    assert cli.main(["rank", "--workload", "llama2-7b", "--schemes", "fp16,int4-g128-a16",
                     "--area-mm2", "8", "--generated", "2",
                     "--fidelity-model", f"llama2-7b={tiny_llama}"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    designs = {(row[1], row[2]) for row in rows if len(row) > 2 and row[0].isdigit()}
    assert designs == {("fp16", "fp16_mac"), ("int4-g128-a16", "fp16_bit_serial")}
