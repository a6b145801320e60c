"""XnorPE vs lowbit.hwsim.pe.XnorPE: with lanes <= 8 every (activation, weight) beat as a one-beat
dot product (<= 65,536), then random dot products (lowbit.hwsim.pe.stimulus); every transfer
cycle, output cycle and output value equal."""
from lowbit.hwsim.pe.configs import XnorPEConfig
from lowbit.rtl.pe.xnor import XnorPE

DESIGN = "xnor_pe"


def test_matches_hwsim_cycle_for_cycle(verdict, design_config, random_vectors):
    _, config = design_config
    assert verdict.ok, verdict.report()
    exhaustive = 1 << (2 * config.lanes) if config.lanes <= 8 else 0
    assert verdict.vectors >= random_vectors + exhaustive


def test_ports():
    component = XnorPE(config=XnorPEConfig(lanes=70, acc_bits=20))
    assert (len(component.in_act), len(component.in_wgt), len(component.out_data)) == (70, 70, 20)
    assert not hasattr(component, "in_wbits")
