"""``lowbit verify``: the summary table of a real (small) run; a design named twice runs once;
a config that cannot be verified gets a failed row and exit 1; long labels keep the columns
aligned; bad input exits 2."""
import dataclasses

from lowbit.rtl import registry
from lowbit.rtl.units.int_mac import IntMacConfig
from lowbit.rtl.verify import runner
from lowbit.sweeps import cli


def test_verify_prints_the_summary_table(capsys, tmp_path):
    code = cli.main(["verify", "--design", "int_mac", "--design", "int_mac", "--vectors", "200",
                     "--build-dir", str(tmp_path)])
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert code == 0
    assert out[0].split()[:4] == ["design", "config", "vectors", "mismatches"]
    rows = [line.split() for line in out[1:5]]
    assert [row[0] for row in rows] == ["int_mac"] * 4
    # every config of int_mac is checked exhaustively whatever --vectors asks (8x8: 2^16 pairs)
    assert [row[2] for row in rows] == ["4096", "4096", "4096", "65536"]
    assert all(row[3] == "0" and row[-1] == "ok" for row in rows)
    assert out[5].startswith("4 configs, 77,824 vectors, 0 mismatches")
    progress = [line for line in captured.err.splitlines() if line.startswith("lowbit verify: [")]
    assert [line.split()[2] for line in progress] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]


def test_unknown_design_exits_2(capsys):
    assert cli.main(["verify", "--design", "nope"]) == 2
    assert "unknown design 'nope'" in capsys.readouterr().err


def test_a_config_that_fails_to_run_gets_a_row_and_exit_1(capsys, tmp_path, monkeypatch):
    long_config = IntMacConfig(a_bits=3, b_bits=5, a_signed=False, b_signed=False,
                               acc_bits=17, overflow="saturate")
    broken_config = IntMacConfig(a_bits=2)
    design = dataclasses.replace(registry.get("int_mac"), configs=(long_config, broken_config))
    monkeypatch.setitem(registry._BY_NAME, "int_mac", design)

    def fake_verify(name, config, build_root, *, vectors=None):
        if config == broken_config:
            raise RuntimeError("the simulator crashed")
        return runner.Result(design=name, config=registry.config_label(config), seed=1,
                             vectors=7, mismatches=0, wall_s=1.0, random_vectors=7)
    monkeypatch.setattr(runner, "verify", fake_verify)

    assert cli.main(["verify", "--design", "int_mac", "--build-dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    header, good, bad, summary = captured.out.splitlines()
    assert len(registry.config_label(long_config)) > 58
    assert good.index(" 7 ") + 2 == header.index("vectors") + len("vectors")   # aligned
    assert good.split()[-1] == "ok"
    assert bad.endswith("failed: RuntimeError: the simulator crashed")
    assert summary.startswith("2 configs, 7 vectors, 0 mismatches, 1 failed to run")
    assert "could not verify int_mac [a_bits=2]: RuntimeError: the simulator crashed" in \
        captured.err


def test_verify_one_config_set_by_param(capsys, tmp_path):
    assert cli.main(["verify", "--design", "int_mac", "--param", "a_bits=2", "--param",
                     "b_bits=2", "--param", "acc_bits=5", "--build-dir", str(tmp_path)]) == 0
    header, row, summary = capsys.readouterr().out.splitlines()
    assert row.split()[:4] == ["int_mac", "a_bits=2,b_bits=2,acc_bits=5", "256", "0"]
    assert row.split()[-1] == "ok" and summary.startswith("1 configs, 256 vectors, 0 mismatches")
    assert cli.main(["verify", "--design", "int_mac", "--design", "lut_pe", "--param",
                     "lanes=4"]) == 2
    assert "--param needs exactly one --design NAME, got 2" in capsys.readouterr().err
