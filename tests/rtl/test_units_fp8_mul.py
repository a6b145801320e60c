"""Fp8Mul vs lowbit.hwsim.units.fp8 (fp8_mul_exact, fp8_mul): all 65,536 operand pairs, both formats,
both overflow modes, both outputs, bit for bit."""
import pytest

from lowbit.rtl.units.fp8_mul import Fp8Mul, Fp8MulConfig

DESIGN = "fp8_mul"


def test_matches_hwsim_exhaustively(verdict):
    assert verdict.ok, verdict.report()
    assert verdict.vectors == 65536


def test_ports():
    component = Fp8Mul(config=Fp8MulConfig(fmt="float8_e5m2", saturate=True))
    widths = {name: len(getattr(component, name)) for name in ("a", "b", "exact", "prod")}
    assert widths == {"a": 8, "b": 8, "exact": 32, "prod": 8}


@pytest.mark.parametrize("kwargs, message", [
    ({"fmt": "float16"}, "fmt must be one of ('float8_e4m3fn', 'float8_e5m2'), got 'float16'"),
    ({"saturate": 1}, "saturate must be True or False, got 1"),
])
def test_config_rejects(kwargs, message):
    with pytest.raises(ValueError, match=f"^{message}$".replace("(", r"\(").replace(")", r"\)")):
        Fp8MulConfig(**kwargs)


def test_component_rejects_a_foreign_config():
    with pytest.raises(ValueError, match="config must be an Fp8MulConfig, got dict"):
        Fp8Mul(config={})
