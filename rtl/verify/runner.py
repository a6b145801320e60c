"""Build once per config, simulate, and read the testbench's verdict.

Environment (sample counts and seeds, read by the testbenches):
  LOWBIT_RTL_VECTORS  random vectors per config (dot products for the PEs and Fp8Mac, operand
                      pairs for the wide XnorPopcount and the 8x8 IntMac); default 10000.
                      Exhaustive sweeps (Fp8Mul, IntMac 4x4, XnorPopcount n=8) ignore it.
  LOWBIT_RTL_SEED     base seed; default 20261123. Each config's seed is derived from it and
                      the config label, and is printed with every mismatch.

A mismatch makes the runner simulate again with waveform dumping (FST), stopping right after
the first failing vector, and name the waveform file in the result's report.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lowbit.rtl import registry
from lowbit.rtl.export import module_name, write_verilog
from lowbit.rtl.verify.benches import make_bench

DEFAULT_VECTORS = 10_000
DEFAULT_SEED = 20261123
TESTBENCH = {"unit": "lowbit.rtl.verify.tb_units", "pe": "lowbit.rtl.verify.tb_pe"}


@dataclass
class Result:
    """The verdict on one design config. ``vectors``: vectors checked (dot products for the
    PEs); ``random_vectors``: the random-vector count asked for (what --vectors reproduces);
    ``failures``: the first mismatches as dicts (vector, expected, got); ``waveform``: the FST
    file of the rerun up to the first failure (None when everything matched)."""
    design: str
    config: str
    seed: int
    vectors: int
    mismatches: int
    wall_s: float
    random_vectors: int
    failures: list = field(default_factory=list)
    waveform: str | None = None

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and self.vectors > 0

    def report(self) -> str:
        """Human-readable mismatch report: design, config, seed, vectors, expected vs got."""
        lines = [f"{self.design} [{self.config}] seed={self.seed}: {self.mismatches} of "
                 f"{self.vectors} vectors mismatch"]
        for failure in self.failures:
            lines.append("  " + json.dumps(failure))
        if self.waveform:
            lines.append(f"  waveform: {self.waveform}")
        lines.append(f"  rerun: LOWBIT_RTL_SEED={base_seed()} lowbit verify --design "
                     f"{self.design} --vectors {self.random_vectors}")
        return "\n".join(lines)


def env_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {text!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def base_seed() -> int:
    return env_int("LOWBIT_RTL_SEED", DEFAULT_SEED)


def config_seed(design_name: str, config) -> int:
    """A seed per design config, stable across runs and machines."""
    key = f"{base_seed()}:{design_name}:{registry.config_label(config)}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:4], "little")


def build(design_name: str, config, build_root) -> Path:
    """Export Verilog and compile it with Icarus (waveform dumping compiled in, off unless
    asked for); return the build directory. Reuses an up-to-date build."""
    from cocotb_tools.runner import get_runner

    label = registry.config_label(config)
    digest = hashlib.sha256(label.encode()).hexdigest()[:10]
    build_dir = Path(build_root) / f"{design_name}-{digest}"
    source = write_verilog(design_name, config, build_dir)
    runner = get_runner("icarus")
    runner.build(sources=[source], hdl_toplevel=module_name(design_name),
                 build_dir=build_dir, timescale=("1ns", "1ps"), waves=True,
                 log_file=build_dir / "build.log")
    return build_dir


def verify(design_name: str, config, build_root, *, vectors: int | None = None) -> Result:
    """Simulate ``design_name`` in ``config`` against its hwsim model; return the verdict."""
    design = registry.get(design_name)
    if vectors is None:
        vectors = env_int("LOWBIT_RTL_VECTORS", DEFAULT_VECTORS)
    seed = config_seed(design_name, config)
    start = time.perf_counter()
    build_dir = build(design_name, config, build_root)
    tally = _simulate(design, config, build_dir, seed, vectors)
    result = Result(design=design_name, config=registry.config_label(config), seed=seed,
                    vectors=tally.vectors, mismatches=tally.mismatches, wall_s=0.0,
                    random_vectors=vectors, failures=tally.failures)
    if tally.mismatches:
        waves = build_dir / "first_failure.fst"
        _simulate(design, config, build_dir, seed, vectors,
                  limit=tally.failures[0]["vector"] + 1, waves=waves)
        result.waveform = str(waves)
    result.wall_s = time.perf_counter() - start
    return result


def _simulate(design, config, build_dir: Path, seed: int, vectors: int, *,
              limit: int | None = None, waves: Path | None = None):
    """Run the testbench on the bench's job; return the comparison's Tally."""
    from cocotb_tools.runner import get_runner

    bench = make_bench(design.name, config, seed=seed, vectors=vectors, limit=limit)
    tag = "waves" if waves else "run"
    job_path, observed_path = build_dir / f"job_{tag}.json", build_dir / f"observed_{tag}.json"
    job_path.write_text(json.dumps(bench.job))
    observed_path.unlink(missing_ok=True)
    get_runner("icarus").test(
        test_module=TESTBENCH[design.kind], hdl_toplevel=module_name(design.name),
        hdl_toplevel_lang="verilog", build_dir=build_dir, test_dir=build_dir,
        extra_env={"LOWBIT_TB_JOB": str(job_path), "LOWBIT_TB_OBSERVED": str(observed_path)},
        waves=waves is not None, plusargs=[f"+dumpfile_path={waves}"] if waves else [],
        log_file=build_dir / f"sim_{tag}.log")
    if not observed_path.exists():
        raise RuntimeError(f"the {design.name} testbench observed nothing; see "
                           f"{build_dir / f'sim_{tag}.log'}")
    return bench.compare(json.loads(observed_path.read_text()))


def verify_many(jobs, build_root, *, workers: int = 2,
                vectors: int | None = None) -> dict[tuple[str, str], Future]:
    """Start ``verify`` for every (design name, config) in ``jobs`` on ``workers`` threads
    (each simulation is a subprocess, so the simulations run in parallel); return a Future
    per (design name, config label), in job order. A job repeated is run once: two runs of
    one config would build into the same directory at the same time."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lowbit-verify")
    futures = {}
    for name, config in jobs:
        key = (name, registry.config_label(config))
        if key not in futures:
            futures[key] = pool.submit(verify, name, config, build_root, vectors=vectors)
    pool.shutdown(wait=False)
    return futures
