"""The cost model: energy (energy.py), area (area.py), cycles (cycles.py), memory traffic
(traffic.py) and the GPU roofline (roofline.py). SI units throughout: joules, seconds, square
metres, bits and bytes."""
