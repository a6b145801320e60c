"""Modules that stand in for parts of a network while one measurement runs: recorded outputs
replayed instead of recomputed, and one block computed once per variant of it.

    outputs = record_outputs(network, blocks, run)       # name -> [output of each call]
    Replay(outputs["model.layers.3"])                    # returns them again, no compute
    Variants(block, [{"mlp.up_proj": quantized}, ...])   # rows of variant v: block with v's swap
    with swapped(network, {"model.layers.3": stand_in}): ...   # restored on exit

Kept apart from lowbit.models.mixed.subjects so that reading cached sensitivities (the search)
never imports torch.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

@contextlib.contextmanager
def swapped(network: nn.Module, modules: dict[str, nn.Module]):
    """``network`` with the submodules named in ``modules`` replaced, restored on exit."""
    originals = {name: network.get_submodule(name) for name in modules}
    try:
        for name, module in modules.items():
            _set(network, name, module)
        yield network
    finally:
        for name, module in originals.items():
            _set(network, name, module)


def _set(network: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, leaf = name.rpartition(".")
    setattr(network.get_submodule(parent) if parent else network, leaf, module)


class Replay(nn.Module):
    """Stands in for a module: returns its recorded outputs, one per call, in recorded order."""

    def __init__(self, outputs: list):
        super().__init__()
        self.outputs, self.calls = outputs, 0

    def forward(self, *args, **kwargs):
        output = self.outputs[self.calls % len(self.outputs)]
        self.calls += 1
        return output


class Variants(nn.Module):
    """Stands in for ``block`` on a batch of len(swaps) equal parts: part v (rows v*n to
    (v+1)*n - 1) goes through ``block`` with the submodules of ``swaps[v]`` (names relative to
    the block) swapped in, so one forward of the network after the block serves every variant.
    Keyword tensors whose first dimension is the whole batch are cut alike; others (batch 1,
    broadcast) pass as they are."""

    def __init__(self, block: nn.Module, swaps: list[dict]):
        super().__init__()
        self.block, self.swaps = block, swaps

    def forward(self, hidden, **kwargs):
        rows = hidden.shape[0] // len(self.swaps)
        parts = []
        for index, swap in enumerate(self.swaps):
            cut = slice(index * rows, (index + 1) * rows)
            part_kwargs = {key: _rows(value, cut, hidden.shape[0]) for key, value in kwargs.items()}
            with swapped(self.block, swap):
                parts.append(self.block(hidden[cut], **part_kwargs))
        return torch.cat(parts)


def _rows(value, cut: slice, batch: int):
    if isinstance(value, torch.Tensor) and value.dim() and value.shape[0] == batch:
        return value[cut]
    if isinstance(value, tuple):
        return tuple(_rows(item, cut, batch) for item in value)
    return value


def record_outputs(network: nn.Module, modules: dict[str, nn.Module], run) -> dict[str, list]:
    """name -> the outputs of each module in ``modules``, one per call, while ``run()`` runs."""
    outputs = {name: [] for name in modules}
    hooks = [module.register_forward_hook(
        lambda mod, args, out, store=outputs[name]: store.append(out))
        for name, module in modules.items()]
    try:
        with torch.no_grad():
            run()
    finally:
        for hook in hooks:
            hook.remove()
    return outputs
