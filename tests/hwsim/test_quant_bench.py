"""lowbit.hwsim.quant.bench: the benchmark runs end to end on a small weight and reports every preset."""
import pytest

from lowbit.hwsim.quant import preset_names
from lowbit.hwsim.quant.bench import main


def test_small_run_reports_every_preset_and_the_peer(capsys):
    assert main(["--n", "128", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "weight 128x128 float32, seed 0, median of 1" in out
    reported = {line.split()[0] for line in out.splitlines()[2:-1]}
    assert reported == set(preset_names())
    assert "peer torch.quantize_per_channel int8" in out and "x the time" in out


@pytest.mark.parametrize("argv,message", [
    (["--n", "100"], "--n must be a positive multiple of 128 (the largest preset group), got 100"),
    (["--n", "0"], "--n must be a positive multiple of 128 (the largest preset group), got 0"),
    (["--repeats", "0"], "--repeats must be >= 1, got 0"),
])
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    """argparse's parser.error: exit status 2 and the message on stderr, after the usage line."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m lowbit.hwsim.quant.bench")
    assert err.rstrip().endswith(f"python -m lowbit.hwsim.quant.bench: error: {message}")
