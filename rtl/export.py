"""Deterministic Verilog export: the same design and config always give the same bytes.

Determinism comes from Amaranth's stable netlist order plus ``emit_src=False`` (no source paths
or line numbers in attributes) and a header naming only the design and its config.
"""
from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

from lowbit.rtl import registry

# Verification and synthesis export from worker threads; Amaranth's in-process yosys is not
# known to be thread-safe, so conversions run one at a time.
_CONVERT_LOCK = threading.Lock()


def module_name(design_name: str) -> str:
    """The Verilog top module name of a design."""
    return f"lowbit_{design_name}"


def verilog_text(design_name: str, config) -> str:
    """Verilog source of ``design_name`` built from ``config`` (top module ``module_name``)."""
    from amaranth.back import verilog

    design = registry.get(design_name)
    header = (f"// lowbit RTL: {design_name}\n"
              f"// config: {type(config).__name__}({_fields(config)})\n")
    with _CONVERT_LOCK:
        component = design.build(config)
        return header + verilog.convert(component, name=module_name(design_name),
                                        emit_src=False)


def write_verilog(design_name: str, config, out_dir) -> Path:
    """Write ``<out_dir>/lowbit_<design>.v``; return its path. Unchanged text is not rewritten,
    so simulators' up-to-date checks stay valid."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{module_name(design_name)}.v"
    text = verilog_text(design_name, config)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def _fields(config) -> str:
    return ", ".join(f"{f.name}={getattr(config, f.name)!r}" for f in dataclasses.fields(config))
