"""``lowbit rtl export``: writes the design's Verilog; bad input exits 2 naming the problem."""
from lowbit.sweeps import cli


def test_export_writes_the_verilog(tmp_path, capsys):
    code = cli.main(["rtl", "export", "bit_serial_pe", "--param", "lanes=2",
                     "--param", "bits_per_cycle=2", "--out", str(tmp_path)])
    path = tmp_path / "lowbit_bit_serial_pe.v"
    assert code == 0
    assert capsys.readouterr().out.strip() == str(path)
    assert "// config: BitSerialPEConfig(lanes=2, act_bits=8, max_weight_bits=8, " \
           "bits_per_cycle=2, acc_bits=32)" in path.read_text()


def test_unknown_design_exits_2(tmp_path, capsys):
    assert cli.main(["rtl", "export", "nope", "--out", str(tmp_path)]) == 2
    assert "lowbit rtl: error: unknown design 'nope'; known designs: int_mac" in \
        capsys.readouterr().err


def test_malformed_param_exits_2(tmp_path, capsys):
    assert cli.main(["rtl", "export", "lut_pe", "--param", "lanes", "--out", str(tmp_path)]) == 2
    assert "lowbit rtl: error: --param must be K=V, got 'lanes'" in capsys.readouterr().err


def test_unwritable_out_exits_2_naming_out(capsys):
    assert cli.main(["rtl", "export", "int_mac", "--out", "/dev/null/x"]) == 2
    err = capsys.readouterr().err
    assert "lowbit rtl: error: --out '/dev/null/x' is not a writable directory: " in err
    assert "Traceback" not in err
