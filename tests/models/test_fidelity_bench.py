import re

import torch

from lowbit.models.fidelity import bench


def test_bench_prints_one_schemes_time_beside_the_reference_forward(tiny_llama, capsys):
    threads = torch.get_num_threads()
    try:
        assert bench.main(["--model", tiny_llama, "--scheme", "w4a4-rotation",
                           "--torch-threads", "1", "--only-scheme"]) == 0
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert re.search(r"one scheme's fidelity \(.*\) +[\d.]+ s wall +[\d.]+ s CPU", out)
    assert re.search(r"÷ reference forward: [\d.]+x wall, [\d.]+x CPU; torch threads 1; "
                     r"\{'ppl': ", out)
    assert "GPTQ" not in out
