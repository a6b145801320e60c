"""MxMacPE vs lowbit.hwsim.pe.MxMacPE: every element pair of the format and every scale-exponent
sum (one-beat dot products), then random dot products (corner codes and scales, NaN/inf, blocks
cut short by in_last, random offers and bubbles); every transfer cycle, output cycle and output
value equal."""
from lowbit.hwsim.pe.configs import MxMacPEConfig
from lowbit.rtl.pe.mx_mac import MxMacPE

DESIGN = "mx_mac_pe"


def test_matches_hwsim_cycle_for_cycle(verdict, random_vectors, design_config):
    _, config = design_config
    codes = 1 << MxMacPEConfig(fmt=config.fmt).act_bits
    assert verdict.ok, verdict.report()
    # the exhaustive pairs fill codes^2 / lanes one-beat dots, and 509 + 3 scale dots follow
    assert verdict.vectors >= random_vectors + codes * codes // config.lanes + 512


def test_ports():
    component = MxMacPE(config=MxMacPEConfig(lanes=16, fmt="float6_e2m3fn"))
    names = ("in_act", "in_wgt", "in_act_scale", "in_wgt_scale", "in_last", "out_data")
    assert {name: len(getattr(component, name)) for name in names} == \
        {"in_act": 96, "in_wgt": 96, "in_act_scale": 8, "in_wgt_scale": 8, "in_last": 1,
         "out_data": 32}
