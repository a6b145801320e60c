"""Technology scaling of the 45 nm base costs (Horowitz energies, Nangate 45 nm areas) to smaller
nodes, from Stillmaker & Baas, "Scaling equations for the accurate prediction of CMOS device
performance from 180 nm to 7 nm", Integration, the VLSI Journal 58 (2017) 74-81
(doi:10.1016/j.vlsi.2017.02.002), with the coefficients of its erratum.

    from lowbit.models.cost import technology
    technology.energy_factor(7)   # multiply a 45 nm energy by this to get the 7 nm energy
    technology.area_factor(7)     # likewise for an area
    technology.delay_factor(7)    # likewise for a gate delay

Raw numbers (as published; the high-performance "HP" device rows, one device family from 45 nm
down to 7 nm):
  area factor from 45 nm (the paper's area table, row 45 nm; independent of Vdd)
      45: 1   20: 0.21   16: 0.19   14: 0.17   10: 0.1   7: 0.059
  energy per operation, a quadratic in Vdd:  E(V) = e2 V^2 + e1 V + e0
      HP45 1.018  -0.3107  0.1539      HP20 0.373  -0.1582  0.04104
      HP16 0.2958 -0.1241  0.03024     HP14 0.2363 -0.09675 0.02239
      HP10 0.2068 -0.09311 0.02375     HP7  0.1776 -0.09097 0.02447
  delay, a cubic in Vdd:  D(V) = d3 V^3 + d2 V^2 + d1 V + d0
      HP45 -501.6 1567 -1619 566.1     HP20 0 34.63 -66.37 41.15
      HP16 0 24.8 -47.52 28.87         HP14 -40.66 109.2 -100.6 35.92
      HP10 -34.95 93.65 -85.99 30.4    HP7  -28.58 76.6 -70.26 24.69
  (Transcribed in wromaszkan/nodeScale, UCLA NanoCAD Lab, nodeScale.py; the HP32 energy row of
  that table, 0.8367 -0.4341 0.1701, is the one the paper's erratum uses in its worked example.)
Supply voltages (where each polynomial is evaluated):
  45 nm  0.9 V: the voltage of Horowitz's ISSCC 2014 45 nm energies, the base this scales from.
  20 nm 0.9 V, 16 nm 0.85 V, 14 nm 0.8 V, 10 nm 0.75 V, 7 nm 0.7 V: the nominal voltages of the
  PTM multi-gate (FinFET) high-performance models the paper fits these nodes to (PTM-MG,
  Sinha et al., DAC 2012; the vdd of each node in the models' param.inc, ptm.asu.edu, listed
  e.g. in Arcadia-1/gmoverid-skill transistor-models/SKILL.md).

How each parameter scales each cost (the paper's method: a ratio of the fitted values):
  energy x E_node(V_node) / E_HP45(0.9 V)      (7 nm: x 0.0684)
  delay  x D_node(V_node) / D_HP45(0.9 V)      (7 nm: x 0.257)
  area   x the table's 45 nm -> node factor    (7 nm: x 0.059)
  (20 nm: energy x 0.287, delay x 0.751, area x 0.21; 16 nm: x 0.198, x 0.507, x 0.19.)
Range: only the nodes above. 28 nm is not among the paper's nodes and is refused rather than
interpolated; 32 nm and the older planar nodes (its HP32, 65-180 nm rows) are left out: at 0.9 V
its HP32 cubic gives a delay factor of 0.663, below HP20's 0.751, so the two rows do not form one
trend, and nothing here needs a node between 45 and 20 nm.
"""
from __future__ import annotations

SOURCE = ("Stillmaker & Baas, Integration 58 (2017) 74-81, HP polynomials and area table "
          "(with erratum)")
BASE_NODE_NM = 45

# node in nm -> (Vdd in V, energy coefficients (e2, e1, e0), delay coefficients (d3, d2, d1, d0),
#                area factor from 45 nm)
_NODES = {
    45: (0.9, (1.018, -0.3107, 0.1539), (-501.6, 1567.0, -1619.0, 566.1), 1.0),
    20: (0.9, (0.373, -0.1582, 0.04104), (0.0, 34.63, -66.37, 41.15), 0.21),
    16: (0.85, (0.2958, -0.1241, 0.03024), (0.0, 24.8, -47.52, 28.87), 0.19),
    14: (0.8, (0.2363, -0.09675, 0.02239), (-40.66, 109.2, -100.6, 35.92), 0.17),
    10: (0.75, (0.2068, -0.09311, 0.02375), (-34.95, 93.65, -85.99, 30.4), 0.1),
    7: (0.7, (0.1776, -0.09097, 0.02447), (-28.58, 76.6, -70.26, 24.69), 0.059),
}
NODES_NM = tuple(_NODES)


def check_node(node_nm) -> None:
    """ValueError naming the allowed nodes unless ``node_nm`` is one of them."""
    if isinstance(node_nm, bool) or node_nm not in _NODES:
        raise ValueError(f"node_nm must be one of {', '.join(map(str, NODES_NM))} (the nodes with "
                         f"sourced scaling data; 28 nm is not among them), got {node_nm!r}")


def vdd(node_nm: int) -> float:
    """Supply voltage in V at which node ``node_nm`` is evaluated."""
    check_node(node_nm)
    return _NODES[node_nm][0]


def _polynomial(coefficients: tuple[float, ...], x: float) -> float:
    """coefficients[0] x^n + ... + coefficients[n] (Horner)."""
    value = 0.0
    for coefficient in coefficients:
        value = value * x + coefficient
    return value


def _fitted_energy(node_nm: int) -> float:
    voltage, energy, _, _ = _NODES[node_nm]
    return _polynomial(energy, voltage)


def _fitted_delay(node_nm: int) -> float:
    voltage, _, delay, _ = _NODES[node_nm]
    return _polynomial(delay, voltage)


def energy_factor(node_nm: int) -> float:
    """Multiplier taking an energy at the 45 nm base (0.9 V) to node ``node_nm``."""
    check_node(node_nm)
    return _fitted_energy(node_nm) / _fitted_energy(BASE_NODE_NM)


def delay_factor(node_nm: int) -> float:
    """Multiplier taking a gate delay at the 45 nm base (0.9 V) to node ``node_nm``."""
    check_node(node_nm)
    return _fitted_delay(node_nm) / _fitted_delay(BASE_NODE_NM)


def area_factor(node_nm: int) -> float:
    """Multiplier taking a 45 nm area to node ``node_nm``."""
    check_node(node_nm)
    return _NODES[node_nm][3]
