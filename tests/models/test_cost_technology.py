"""Technology scaling (lowbit.models.cost.technology) against hand-evaluated Stillmaker-Baas
polynomials."""
import pytest

from lowbit.models.cost import technology


def test_base_node_scales_by_one():
    assert technology.energy_factor(45) == 1.0
    assert technology.delay_factor(45) == 1.0
    assert technology.area_factor(45) == 1.0


def test_7nm_energy_by_hand():
    # HP7 at 0.7 V: 0.1776*0.49 - 0.09097*0.7 + 0.02447 = 0.047815
    # HP45 at 0.9 V: 1.018*0.81 - 0.3107*0.9 + 0.1539 = 0.69885
    assert technology.energy_factor(7) == pytest.approx(0.047815 / 0.69885, rel=1e-9)


def test_7nm_delay_by_hand():
    # HP7 at 0.7 V: -28.58*0.343 + 76.6*0.49 - 70.26*0.7 + 24.69 = 3.23906
    # HP45 at 0.9 V: -501.6*0.729 + 1567*0.81 - 1619*0.9 + 566.1 = 12.6036
    assert technology.delay_factor(7) == pytest.approx(3.23906 / 12.6036, rel=1e-9)


def test_14nm_energy_by_hand():
    # HP14 at 0.8 V: 0.2363*0.64 - 0.09675*0.8 + 0.02239 = 0.096222
    assert technology.energy_factor(14) == pytest.approx(0.096222 / 0.69885, rel=1e-9)


def test_20nm_by_hand():
    # HP20 at 0.9 V: energy 0.373*0.81 - 0.1582*0.9 + 0.04104 = 0.200790;
    # delay 34.63*0.81 - 66.37*0.9 + 41.15 = 9.4673
    assert technology.vdd(20) == 0.9
    assert technology.energy_factor(20) == pytest.approx(0.200790 / 0.69885, rel=1e-9)
    assert technology.delay_factor(20) == pytest.approx(9.4673 / 12.6036, rel=1e-9)


def test_16nm_by_hand():
    # HP16 at 0.85 V: energy 0.2958*0.7225 - 0.1241*0.85 + 0.03024 = 0.1384705;
    # delay 24.8*0.7225 - 47.52*0.85 + 28.87 = 6.396
    assert technology.vdd(16) == 0.85
    assert technology.energy_factor(16) == pytest.approx(0.1384705 / 0.69885, rel=1e-9)
    assert technology.delay_factor(16) == pytest.approx(6.396 / 12.6036, rel=1e-9)


def test_area_factors_are_the_table_row():
    assert [technology.area_factor(n) for n in (20, 16, 14, 10, 7)] == [0.21, 0.19, 0.17, 0.1,
                                                                        0.059]


def test_smaller_nodes_cost_less():
    for factor in (technology.energy_factor, technology.delay_factor, technology.area_factor):
        values = [factor(n) for n in technology.NODES_NM]
        assert values == sorted(values, reverse=True)


@pytest.mark.parametrize("node", [28, 32, 22, 5, "7", True, 7.5])
def test_unsourced_nodes_are_refused_naming_the_allowed(node):
    with pytest.raises(ValueError, match=r"node_nm must be one of 45, 20, 16, 14, 10, 7 .*28 nm"):
        technology.energy_factor(node)
