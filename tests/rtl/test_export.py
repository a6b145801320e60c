"""Verilog export is deterministic and names the design and config."""
from lowbit.hwsim.pe.configs import LutPEConfig
from lowbit.rtl import registry
from lowbit.rtl.export import verilog_text, write_verilog


def test_same_design_and_config_give_the_same_bytes():
    config = LutPEConfig(lanes=8, group_size=4, acc_bits=20)
    assert verilog_text("lut_pe", config) == verilog_text("lut_pe", config)


def test_different_configs_give_different_modules():
    configs = registry.get("shift_add_pe").configs
    assert verilog_text("shift_add_pe", configs[0]) != verilog_text("shift_add_pe", configs[1])


def test_write_verilog_names_the_top_module(tmp_path):
    path = write_verilog("xnor_popcount", registry.get("xnor_popcount").configs[0], tmp_path)
    text = path.read_text()
    assert path.name == "lowbit_xnor_popcount.v"
    assert "module lowbit_xnor_popcount(" in text
    assert text.startswith("// lowbit RTL: xnor_popcount\n// config: XnorPopcountConfig(n=8)\n")
    assert str(tmp_path) not in text and "/work" not in text   # no source paths leak in


def test_export_is_the_same_in_a_fresh_interpreter(tmp_path):
    """Nothing in the text depends on hash seeds, object ids or the process."""
    import os
    import subprocess
    import sys

    config = registry.get("fp8_mac").configs[2]
    code = ("import sys; from lowbit.rtl import registry; from lowbit.rtl.export import write_verilog; "
            "write_verilog('fp8_mac', registry.get('fp8_mac').configs[2], sys.argv[1])")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, env=env)
    assert (tmp_path / "lowbit_fp8_mac.v").read_text() == verilog_text("fp8_mac", config)
