"""The accumulator question's search (lowbit.models.fidelity.accumulator) on a synthetic fit and,
end to end, on the tiny LLaMA."""
import json

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


def test_the_question_runs_end_to_end_on_a_tiny_llm(tiny_llama, capsys, tmp_path):
    path = tmp_path / "measured.jsonl"
    assert accumulator.main(["--model", tiny_llama, "--schemes", "int8",
                             "--eval-tokens", "512", "--record", str(path)]) == 0
    out = capsys.readouterr().out
    assert "every group sum fits" in out and "narrowest_acc_bits" in out
    assert "70608" in out                 # the 16-lane int8 int_mac PE at 32 bits, synthesized
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    wide, fits = lines[0], lines[1]
    assert wide["acc_bits"] == 32 and wide["eval_tokens"] == 512 and wide["scheme"] == "int8"
    assert wide["wall_s"] > 0 and wide["cpu_s"] > 0 and 0 <= wide["top1"] <= 1
    assert f"KL {wide['kl']:.5f}" in out
    assert f"every group sum fits {fits['no_overflow_bits']} bits" in out
    assert [line["acc_bits"] for line in lines[2:]] == list(
        range(fits["no_overflow_bits"] - 1, fits["no_overflow_bits"] - 1 - len(lines[2:]), -1))


def test_record_appends_one_json_line_per_row_and_nothing_without_a_path(tmp_path):
    path = tmp_path / "rows.jsonl"
    accumulator.record(path, {"acc_bits": 21, "kl": 0.5})
    accumulator.record(path, {"acc_bits": 20, "kl": 0.75})
    accumulator.record(None, {"acc_bits": 19})
    assert [json.loads(line) for line in path.read_text().splitlines()] == [
        {"acc_bits": 21, "kl": 0.5}, {"acc_bits": 20, "kl": 0.75}]
