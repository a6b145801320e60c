"""The real models a per-layer mixed-precision search measures ("subjects"), behind one small
interface: their quantizable layers, a measured degradation with some layers quantized, and a
probe whose gradient gives a diagonal-Fisher estimate of that degradation.

    subject = subjects.get("minilm")                  # "digits_cnn", "minilm", "smollm2", an LLM path
    subject.layer_names()                             # the quantizable layers, in module order
    subject.degradation({name: scheme})               # measured; the other layers stay float32
    subject.degradations([(name, scheme), ...])       # each alone (an LLM: batched per block)

Degradation (lower is better; 0 for the float32 model) of each subject, on its evaluation data:
  digits_cnn  float32 top-1 - quantized top-1 on the 540 test images (lowbit.models.fidelity.digits_cnn)
  minilm      1 - mean cosine of the sentence embeddings to the float32 ones over the first
              ``sentences`` shipped sentences (default: all; lowbit.models.fidelity.minilm)
  LLM         mean next-token KL(float32 || quantized) in nats over the first ``tokens``
              evaluation tokens of lowbit.models.fidelity.llm (SmolLM2-135M by default)
A quantized layer is exactly what the fidelity path builds for a whole-model scheme
(lowbit.models.fidelity.quantized.QuantLinear / QuantConv2d for the digits CNN and MiniLM,
lowbit.models.ptq.quantize_linear for an LLM), so a uniform assignment measures what
lowbit.models.fidelity measures for that scheme on the same data.

Probe (``probe(network, generator)``): a scalar whose gradient g with respect to a layer's output
y satisfies E[g^2] = the diagonal of the Gauss-Newton matrix of the degradation at the float32
model, summed over samples (``samples`` of them), cross terms vanishing in expectation:
  digits_cnn, LLM  sum of log p(y_i) over images / positions, y_i drawn from the float model's own
                   softmax (the sampled-label Fisher of KL; for the digits CNN it stands in for
                   the top-1 drop, which has no gradient)
  minilm           sum of v_s . e_s over sentences, e_s the L2-normalized embedding and v_s
                   Rademacher (1 - cos(e_q, e) = |e_q - e|^2 / 2 for unit vectors)
Calibration data of the probe: digits training images, the shipped sentences (MiniLM has no
other text; the same as its evaluation), the first ``tokens`` LLM calibration tokens (disjoint
from the evaluation tokens).
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:      # torch is imported where it runs: reading cached sensitivities needs none
    import torch
    from torch import nn

# Cost-model stand-in kinds of each subject's layers (lowbit.models.mixed.layer_costs).
_LLM_KINDS = {"q_proj": "q", "k_proj": "k", "v_proj": "v", "o_proj": "o", "gate_proj": "gate",
              "up_proj": "up", "down_proj": "down"}
_BERT_KINDS = {"attention.self.query": "q", "attention.self.key": "k",
               "attention.self.value": "v", "attention.output.dense": "o",
               "intermediate.dense": "intermediate", "output.dense": "output"}
DIGITS_PROBE_IMAGES = 512
# Evaluation tokens of an LLM subject: 256, the most for which SmolLM2's 210 layers x 3 schemes
# (batched per block, CausalLM.degradations) fit about an hour on two shared cores.
DEFAULT_LLM_TOKENS = 256
# Token rows one batched sensitivity forward may hold (CausalLM.degradations): bounds its
# [rows, vocab] float32 logits and log-probabilities (SmolLM2: 2 x 400 MB at 2048).
VARIANT_TOKENS = 2048
# PTQ methods whose codes are one layer's own choice: AWQ and SmoothQuant share one input scale
# among the layers that read one input, so a layer cannot take them alone.
PER_LAYER_METHODS = ("rtn", "gptq", "rotation")


def check_scheme(scheme) -> None:
    """ValueError unless ``scheme`` can be one layer's own choice (no KV format, a per-layer
    method)."""
    if scheme.kv is not None:
        raise ValueError(f"scheme {scheme.label} sets a KV-cache format, a whole-model choice; "
                         f"a per-layer scheme must have kv None")
    if scheme.method not in PER_LAYER_METHODS:
        raise ValueError(f"scheme {scheme.label}: method must be one of "
                         f"{', '.join(PER_LAYER_METHODS)} for a per-layer choice, got "
                         f"{scheme.method!r}")


class Subject:
    """One subject (module docstring). Subclasses set ``model`` (the lowbit.models.fidelity
    model name), ``metric`` (what degradation measures), ``samples`` (what the probe sums over)
    and implement the four model hooks below."""
    model: str
    metric: str
    samples: int
    kind_order: tuple = ()

    def network(self) -> nn.Module:
        """The float32 network (shared; ``swapped`` restores it)."""
        raise NotImplementedError

    def layers(self) -> dict[str, nn.Module]:
        """name -> float32 module of every quantizable layer, in module order."""
        raise NotImplementedError

    def quantize_layer(self, name: str, scheme) -> nn.Module:
        raise NotImplementedError

    def evaluate(self, network: nn.Module) -> float:
        """Degradation of ``network`` against the float32 model."""
        raise NotImplementedError

    def probe(self, network: nn.Module, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def kind(self, name: str) -> str:
        """The cost-model stand-in kind of layer ``name`` (lowbit.models.mixed.layer_costs)."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Compute what ``evaluate`` compares against (it runs the shared float32 network, so
        it must run before any layer is swapped)."""

    def identity(self) -> str:
        """What the measured values depend on besides the code fingerprint (data sizes)."""
        return self.model

    def description(self) -> str:
        """How reports name the model (lowbit.models.fidelity.cache.provenance's name)."""
        from lowbit.models.fidelity import cache
        return cache.provenance(self.model)["fidelity_model"]

    def layer_names(self) -> list[str]:
        return list(self.layers())

    def sort_key(self, name: str):
        """Orders layer names as the module does, from the names alone: the numbers in the
        name (block indices) by value, then the kinds in ``kind_order``."""
        numbers = [int(part) for part in name.split(".") if part.isdigit()]
        return numbers, self.kind_order.index(self.kind(name))

    def fidelity(self, network: nn.Module) -> tuple[float, str]:
        """(value, metric) of ``network`` in the metric the sweeps report for this model
        (lowbit.models.fidelity.cache.fidelity's: top1, cosine, ref_ppl/ppl)."""
        raise NotImplementedError

    def degradation(self, assignment: dict) -> float:
        """Measured degradation with each layer of ``assignment`` (name -> Scheme) quantized
        and the others float32."""
        return self.measure(assignment, self.evaluate)

    def degradations(self, pairs: list[tuple[str, object]]) -> list[float]:
        """degradation({layer: scheme}) of each (layer, scheme) of ``pairs``, in order (a
        subject may compute them together: see ``batch_group``)."""
        return [self.degradation({layer: scheme}) for layer, scheme in pairs]

    def batch_group(self, name: str):
        """Layers of one group are measured by one ``degradations`` call (default: each
        alone)."""
        return name

    def sweep_fidelity(self, assignment: dict) -> tuple[float, str]:
        """``fidelity`` of the network with ``assignment`` quantized (a sweep design point)."""
        return self.measure(assignment, self.fidelity)

    def measure(self, assignment: dict, metric):
        """``metric(network)`` with each layer of ``assignment`` quantized, the others
        float32."""
        unknown = [name for name in assignment if name not in self.layers()]
        if unknown:
            raise ValueError(f"assignment names layers {unknown[:3]} that {self.model} does "
                             f"not have")
        for scheme in set(assignment.values()):
            check_scheme(scheme)
        import torch
        modules = {name: self.quantize_layer(name, scheme) for name, scheme in assignment.items()}
        self.prepare()
        from lowbit.models.mixed.replay import swapped
        with torch.no_grad(), swapped(self.network(), modules) as network:
            return metric(network)


class DigitsCNN(Subject):
    model, metric = "digits_cnn", "top1 drop"
    kind_order = ("conv1", "conv2", "fc1", "fc2")

    def __init__(self):
        from lowbit.models.fidelity import digits_cnn
        self._digits = digits_cnn
        self.samples = DIGITS_PROBE_IMAGES
        self._float_top1 = None

    def network(self):
        return self._digits.trained_model()

    def layers(self):
        from torch import nn
        return {name: module for name, module in self.network().named_modules()
                if isinstance(module, (nn.Linear, nn.Conv2d))}

    def quantize_layer(self, name, scheme):
        from torch import nn

        from lowbit.models.fidelity.quantized import QuantConv2d, QuantLinear
        module = self.layers()[name]
        return (QuantConv2d if isinstance(module, nn.Conv2d) else QuantLinear)(module, scheme)

    def prepare(self):
        if self._float_top1 is None:
            self._float_top1 = self._digits.accuracy(self.network())

    def evaluate(self, network):
        return self._float_top1 - self._digits.accuracy(network)

    def fidelity(self, network):
        return self._digits.accuracy(network), "top1"

    def probe(self, network, generator):
        x_train, _, _, _ = self._digits.dataset()
        return _sampled_log_likelihood(network(x_train[:self.samples]), generator)

    def kind(self, name):
        return {"0": "conv1", "2": "conv2", "6": "fc1", "8": "fc2"}[name]

    def gemm_shapes(self) -> list[tuple[int, int, int]]:
        """(rows per image, K, N) of each layer's GEMM (a convolution's im2col rows are its
        output pixels), read off one test image's forward pass."""
        from torch import nn

        from lowbit.models.mixed.replay import record_outputs
        _, _, x_test, _ = self._digits.dataset()
        outputs = record_outputs(self.network(), self.layers(),
                                  lambda: self.network()(x_test[:1]))
        shapes = []
        for (name, module), (out,) in zip(self.layers().items(), outputs.values()):
            if isinstance(module, nn.Conv2d):
                k = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
                shapes.append((out.shape[2] * out.shape[3], k, module.out_channels))
            else:
                shapes.append((1, module.in_features, module.out_features))
        return shapes


class MiniLM(Subject):
    model, metric = "minilm", "1 - cosine"
    kind_order = tuple(_BERT_KINDS.values())

    def __init__(self, sentences: int | None = None):
        from lowbit.models.fidelity import minilm
        self._minilm = minilm
        shipped = minilm.sentences()
        if sentences is not None and (isinstance(sentences, bool) or not isinstance(sentences, int)
                                      or not 2 <= sentences <= len(shipped)):
            raise ValueError(f"sentences must be an integer in 2..{len(shipped)}, "
                             f"got {sentences!r}")
        self.texts = shipped[:sentences]
        self.samples = len(self.texts)

    def network(self):
        return self._minilm.load_float_model()

    def layers(self):
        # the BERT pooler is never called under mean pooling: quantizing it changes nothing
        from torch import nn
        return {name: module for name, module in self.network().named_modules()
                if isinstance(module, nn.Linear) and ".pooler." not in name}

    def quantize_layer(self, name, scheme):
        from lowbit.models.fidelity.quantized import QuantLinear
        return QuantLinear(self.layers()[name], scheme)

    def prepare(self):
        self._minilm.reference_embeddings(self.texts)

    def evaluate(self, network):
        result = self._minilm.compare(self._minilm.reference_embeddings(self.texts),
                                      self._minilm.embed(network, self.texts))
        return 1.0 - result["mean_cosine"]

    def fidelity(self, network):
        return 1.0 - self.evaluate(network), "cosine"

    def probe(self, network, generator):
        import torch
        from torch import nn
        features = network.tokenize(self.texts)
        embedding = nn.functional.normalize(network(features)["sentence_embedding"], dim=-1)
        signs = torch.randint(0, 2, embedding.shape, generator=generator) * 2.0 - 1.0
        return (signs * embedding).sum()

    def kind(self, name):
        return _BERT_KINDS[name.split(".layer.", 1)[1].split(".", 1)[1]]

    def identity(self):
        return f"{self.model}|{self.samples} sentences"


class CausalLM(Subject):
    metric = "KL (nats)"
    kind_order = tuple(_LLM_KINDS.values())

    def __init__(self, model: str, tokens: int):
        from lowbit.models.fidelity import llm
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 2 or (
                tokens > llm.SEQ_LEN and tokens % llm.SEQ_LEN):
            raise ValueError(f"tokens must be an integer in 2..{llm.SEQ_LEN} or a multiple of "
                             f"{llm.SEQ_LEN}, got {tokens!r}")
        self._llm, self.model, self.tokens = llm, model, tokens
        self._ids = None            # (evaluation, probe, full calibration) ids, loaded on use
        self._block_outputs = None

    def _token_ids(self):
        if self._ids is None:
            _, tokenizer = self._llm.load(self.model)
            eval_ids, calib_ids = self._llm.token_sets(tokenizer)
            self._ids = (_first_tokens(eval_ids, self.tokens),
                         _first_tokens(calib_ids, self.tokens), calib_ids)
        return self._ids

    @property
    def eval_ids(self):
        return self._token_ids()[0]

    @property
    def calib_ids(self):
        return self._token_ids()[1]

    @property
    def samples(self):
        return self.calib_ids.numel() - self.calib_ids.shape[0]  # predicted positions

    def network(self):
        return self._llm.load(self.model)[0]

    def layers(self):
        return self._llm._decoder_linears(self.network())

    def quantize_layer(self, name, scheme):
        from lowbit.models import ptq
        stats = None
        if ptq.NEEDS[scheme.method]:  # GPTQ: the layer's input Hessian over the calibration text
            stats = self._llm.calibration_stats(self.model, self.network(),
                                                self._token_ids()[2])[self._llm._input_group(name)]
        return ptq.quantize_linear(self.layers()[name], scheme, stats)

    def prepare(self):
        self._llm.reference(self.model, self.eval_ids)
        if self._block_outputs is None:
            from lowbit.models.mixed.replay import record_outputs
            self._block_outputs = record_outputs(self.network(), self._blocks(),
                                                 lambda: self.evaluate(self.network()))

    def fidelity(self, network):
        reference = self._llm.reference(self.model, self.eval_ids)
        return 1.0 / self._llm.compare(reference, network, self.eval_ids)["ppl_ratio"], \
            "ref_ppl/ppl"

    def measure(self, assignment, metric):
        """As Subject.measure, each decoder block before the first quantized layer replaying
        its recorded float32 output (the same values, without recomputing them)."""
        from lowbit.models.mixed.replay import Replay, swapped
        blocks = self._blocks()
        first = min((_block_index(name, blocks) for name in assignment), default=0)
        self.prepare()
        replays = {name: Replay(self._block_outputs[name]) for name in list(blocks)[:first]}
        with swapped(self.network(), replays):
            return super().measure(assignment, metric)

    def batch_group(self, name):
        return _block_index(name, self._blocks())

    def degradations(self, pairs):
        """As Subject.degradations, computed per decoder block: each (layer, scheme) in block b
        is one variant (lowbit.models.mixed.replay.Variants) of a batch of up to
        VARIANT_TOKENS // (tokens per evaluation batch) variants; the blocks before b return
        the recorded float32 input of block b, and the blocks after b, the norm and the head run
        once for the whole batch. The mean next-token KL of each variant is compare's. Equal to
        ``degradation`` of each pair up to float32 rounding of the batched products (tested)."""
        for scheme in {scheme for _, scheme in pairs}:
            check_scheme(scheme)
        self.prepare()
        blocks = self._blocks()
        by_block: dict[int, list[int]] = {}
        for position, (layer, _) in enumerate(pairs):
            by_block.setdefault(_block_index(layer, blocks), []).append(position)
        per_forward = max(1, VARIANT_TOKENS // min(self.eval_ids.numel(),
                                                   self._llm.BATCH * self.eval_ids.shape[1]))
        kl_sums = [0.0] * len(pairs)
        for index, positions in sorted(by_block.items()):
            block = list(blocks)[index]
            for start in range(0, len(positions), per_forward):
                chunk = positions[start:start + per_forward]
                swaps = [{pairs[p][0].removeprefix(block + "."): self.quantize_layer(*pairs[p])}
                         for p in chunk]
                for p, kl_sum in zip(chunk, self._variant_kl_sums(index, swaps)):
                    kl_sums[p] = kl_sum
        positions = self.eval_ids.numel() - self.eval_ids.shape[0]
        return [kl_sum / positions for kl_sum in kl_sums]

    def _variant_kl_sums(self, index: int, swaps: list[dict]) -> list[float]:
        """Summed next-token KL over the evaluation positions of each variant of block
        ``index`` (``degradations``)."""
        import torch

        from lowbit.models.mixed.replay import Replay, Variants, swapped
        names, network, count = list(self._blocks()), self.network(), len(swaps)
        reference = self._llm.reference(self.model, self.eval_ids)
        sums = [0.0] * count
        for call, (batch, (ref, _, _)) in enumerate(zip(self.eval_ids.split(self._llm.BATCH),
                                                          reference)):
            stand_ins = {names[index]: Variants(self._blocks()[names[index]], swaps)}
            if index:
                block_input = self._block_outputs[names[index - 1]][call].repeat(count, 1, 1)
                stand_ins.update({name: Replay([block_input]) for name in names[:index]})
            with torch.no_grad(), swapped(network, stand_ins):
                logits = network(batch.repeat(count, 1), use_cache=False).logits[:, :-1]
                logp = torch.log_softmax(logits.float(), -1)
            ref = ref.float()
            for variant, part in enumerate(logp.split(batch.shape[0])):
                sums[variant] += float((ref.exp() * (ref - part)).sum())
        return sums

    def _blocks(self) -> dict[str, nn.Module]:
        """name -> decoder block, in order (LLaMA-style models: ``model.layers``)."""
        return {f"model.layers.{index}": block
                for index, block in enumerate(self.network().model.layers)}

    def evaluate(self, network):
        reference = self._llm.reference(self.model, self.eval_ids)
        return self._llm.compare(reference, network, self.eval_ids)["kl"]

    def probe(self, network, generator):
        return _sampled_log_likelihood(network(self.calib_ids).logits[:, :-1], generator)

    def kind(self, name):
        return _LLM_KINDS[name.rpartition(".")[2]]

    def identity(self):
        return f"{self.model}|{self.tokens} tokens"


def _block_index(layer: str, blocks: dict) -> int:
    for index, name in enumerate(blocks):
        if layer.startswith(name + "."):
            return index
    raise ValueError(f"layer {layer!r} is in none of the decoder blocks")


def _first_tokens(ids: torch.Tensor, tokens: int) -> torch.Tensor:
    """The first ``tokens`` of a [rows, SEQ_LEN] id set, as one sequence when ``tokens`` is at
    most SEQ_LEN, else as whole SEQ_LEN rows."""
    seq_len = ids.shape[1]
    if tokens > ids.numel():
        raise ValueError(f"tokens must be at most the {ids.numel()} tokens of the set, "
                         f"got {tokens}")
    return ids.reshape(-1)[:tokens].reshape(-1, min(tokens, seq_len))


def _sampled_log_likelihood(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """sum of log p(y) over every row of ``logits``, y drawn from the model's own softmax."""
    import torch
    logp = torch.log_softmax(logits.reshape(-1, logits.shape[-1]).float(), -1)
    drawn = torch.multinomial(logp.detach().exp(), 1, generator=generator)
    return logp.gather(-1, drawn).sum()


def get(model: str, samples: int | None = None) -> Subject:
    """The subject of fidelity model ``model`` ("digits_cnn", "minilm", or a causal LM that
    lowbit.models.fidelity.cache.is_llm accepts); ``samples``: an LLM's evaluation and probe
    tokens (default DEFAULT_LLM_TOKENS), MiniLM's sentences (default: every shipped one); the
    digits CNN takes none."""
    from lowbit.models.fidelity import cache
    if model == "digits_cnn":
        if samples is not None:
            raise ValueError("samples does not apply to digits_cnn (its 540 test images)")
        return DigitsCNN()
    if model == "minilm":
        return MiniLM(samples)
    if cache.is_llm(model):
        return CausalLM(model, DEFAULT_LLM_TOKENS if samples is None else samples)
    raise ValueError(f"model must be 'digits_cnn', 'minilm', 'smollm2' or a local causal LM "
                     f"(model folder or .gguf file), got {model!r}")


def slug(subject: Subject) -> str:
    """A file-name-safe id of the subject and its data size."""
    digest = hashlib.sha256(subject.identity().encode()).hexdigest()[:10]
    name = subject.model if subject.model in ("digits_cnn", "minilm", "smollm2") else "llm"
    return f"{name}-{digest}"
