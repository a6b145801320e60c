"""The accumulator question's search (lowbit.models.fidelity.accumulator) on a synthetic fit and,
end to end, on the tiny LLaMA."""
from lowbit.models.fidelity import accumulator


def test_narrowest_scans_down_to_the_first_width_that_does_not_fit():
    asked = []

    def fits(width):
        asked.append(width)
        return width >= 19
    assert accumulator.narrowest(fits, 22, 8) == 19
    assert asked == [21, 20, 19, 18]
    assert accumulator.narrowest(lambda width: True, 12, 8) == 8
    assert accumulator.narrowest(lambda width: False, 22, 8) == 22


def test_the_question_runs_end_to_end_on_a_tiny_llm(tiny_llama, capsys):
    assert accumulator.main(["--model", tiny_llama, "--schemes", "int8",
                             "--eval-tokens", "512"]) == 0
    out = capsys.readouterr().out
    assert "every group sum fits" in out and "narrowest_acc_bits" in out
    assert "70608" in out                 # the 16-lane int8 int_mac PE at 32 bits, synthesized
