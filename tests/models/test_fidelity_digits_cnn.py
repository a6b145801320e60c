import torch

from lowbit.hwsim import quant

from lowbit.models.fidelity import digits_cnn
from lowbit.models.fidelity.quantized import quantized_layers


def test_training_is_deterministic():
    first, second = digits_cnn._train(), digits_cnn._train()
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items()):
        assert torch.equal(a, b), name


def test_float_model_is_accurate():
    assert digits_cnn.accuracy(digits_cnn.trained_model()) > 0.95


def test_top1_per_scheme_makes_sense():
    top1 = {name: digits_cnn.evaluate(quant.preset(name))["top1"]
            for name in ("int8", "mxfp4", "binary")}
    float_top1 = digits_cnn.accuracy(digits_cnn.trained_model())
    assert top1["int8"] >= float_top1 - 0.01
    assert top1["mxfp4"] > 0.9
    assert top1["binary"] < top1["int8"] - 0.1


def test_quantized_model_uses_the_codes():
    model = digits_cnn.quantized_model(quant.preset("int8"))
    layers = quantized_layers(model)
    assert [type(m).__name__ for m in layers] == ["QuantConv2d", "QuantConv2d", "QuantLinear",
                                                   "QuantLinear"]
    before = digits_cnn.accuracy(model)
    layers[-1].qweight.codes[:, :] = 0   # every class logit is now its bias
    assert digits_cnn.accuracy(model) < before - 0.5


def test_test_split_size():
    # 30 % of sklearn's 1797 digits images, rounded up as train_test_split does
    x_test = digits_cnn.dataset()[2]
    assert digits_cnn.test_samples() == len(x_test) == 540
