"""The cost model: energy (energy.py), area (area.py), cycles (cycles.py), memory traffic
(traffic.py), the GPU roofline (roofline.py), technology scaling to 14/10/7 nm (technology.py),
DRAM kinds (dram.py), on-chip SRAM vs capacity and width (sram.py), the clock a PE reaches
(timing.py) and LLM serving terms: KV cache, decode traffic, per-phase rates (llm.py). SI units
throughout: joules, seconds, square metres, bits and bytes."""
