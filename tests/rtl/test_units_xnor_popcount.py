"""XnorPopcount vs lowbit.hwsim.units.binary.xnor_dot: n = 8 exhaustively (65,536 pairs), n = 64 and
256 with corner and random vectors."""
import pytest

from lowbit.rtl.units.xnor_popcount import XnorPopcount, XnorPopcountConfig

DESIGN = "xnor_popcount"


def test_matches_hwsim(verdict, design_config, random_vectors):
    _, config = design_config
    assert verdict.ok, verdict.report()
    assert verdict.vectors == (1 << (2 * config.n) if config.n <= 8 else random_vectors + 6)


def test_ports():
    component = XnorPopcount(config=XnorPopcountConfig(n=100))
    assert (len(component.a), len(component.b), len(component.dot)) == (100, 100, 8)


def test_config_rejects():
    with pytest.raises(ValueError) as info:
        XnorPopcountConfig(n=0)
    assert str(info.value) == "n must be an integer in 1..4096, got 0"
