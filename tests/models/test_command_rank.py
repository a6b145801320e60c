import csv

from sweeps import cli


def test_rank_prints_and_writes_csv(seeded_cache, tmp_path, capsys):
    seeded_cache("minilm", "int4-g128", 0.93)
    seeded_cache("minilm", "log2_4", 0.91)
    out = tmp_path / "rank.csv"
    argv = ["rank", "--workload", "llama2-7b", "--schemes", "int4-g128,log2_4", "--pes",
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
