"""The fused SVDLinear forward of core.adalora.fast_forward against peft's own: outputs and gradients.

Tolerance: both compute the same product in float32, but the fused forward multiplies the scalar
``scaling / (ranknum + 1e-5)`` into ``lora_A * lora_E`` before the matmuls instead of into their result, so each
element is rounded differently: a few float32 ulps (2**-23 ~ 1.2e-7 relative) per operation, accumulated over
the matmul sums and the layers. The checks allow 1e-5 of each tensor's largest magnitude; the differences seen
on these models are 1e-7 to 2e-6 (logits and every adapter gradient).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from adalora_studio.core.adalora import install_fast_forward, uninstall_fast_forward
from adalora_studio.core.adalora.fast_forward import fast_svd_forward
from tests.core.engine_fixtures import torch_single_thread  # noqa: F401  (autouse fixture)

REL = 1e-5


def _model(model_dir: Path, kind: str, dropout: float = 0.0) -> Any:
    """A peft AdaLoRA model with non-trivial P, Lambda and Q (peft starts lora_E and so the product at zero): std
    0.3, a large change of every weight that keeps the tiny network well-conditioned (at std 1 its saturated
    softmaxes amplify any rounding to 1e-4 in some gradients, for peft's own forward in float32 as well)."""
    import torch
    from peft import AdaLoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    torch.manual_seed(0)
    if kind == "bert":
        base = AutoModelForSequenceClassification.from_pretrained(str(model_dir), num_labels=3)
        cfg = AdaLoraConfig(task_type="SEQ_CLS", target_modules=["query", "key", "value", "dense"], init_r=4,
                            target_r=2, total_step=10, lora_alpha=8, lora_dropout=dropout)
    else:  # GPT-2's Conv1D layers: fan_in_fan_out
        base = AutoModelForCausalLM.from_pretrained(str(model_dir))
        cfg = AdaLoraConfig(task_type="CAUSAL_LM", target_modules=["c_attn", "c_fc", "c_proj"], init_r=4,
                            target_r=2, total_step=10, lora_alpha=8, fan_in_fan_out=True, lora_dropout=dropout)
    model = get_peft_model(base, cfg)
    with torch.no_grad():
        generator = torch.Generator().manual_seed(1)
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.copy_(0.3 * torch.randn(p.shape, generator=generator))
    return model


def _batch(kind: str) -> dict[str, Any]:
    import torch

    g = torch.Generator().manual_seed(3)
    ids = torch.randint(5, 100, (3, 10), generator=g)
    labels = torch.randint(0, 3, (3,), generator=g) if kind == "bert" else ids.clone()
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}


def _close(fast: Any, ref: Any) -> bool:
    import torch

    return bool((fast - ref).abs().max() <= REL * ref.abs().max().clamp_min(torch.finfo(ref.dtype).tiny))


def _svd_layers(model: Any) -> list[Any]:
    from peft.tuners.adalora.layer import SVDLinear

    return [m for m in model.modules() if type(m) is SVDLinear]


def _forward_backward(model: Any, kind: str) -> tuple[Any, dict[str, Any]]:
    """Logits and every adapter gradient of one training forward (dropout drawn from seed 5)."""
    import torch

    model.train()
    model.zero_grad(set_to_none=True)
    torch.manual_seed(5)
    out = model(**_batch(kind))
    out.loss.backward()
    return out.logits.detach(), {n: p.grad for n, p in model.named_parameters() if "lora_" in n}


@pytest.mark.parametrize(("kind", "dropout"), [("bert", 0.0), ("gpt2", 0.0), ("bert", 0.2)])
def test_fused_forward_matches_peft(kind: str, dropout: float, tiny_bert_dir: Path, tiny_gpt2_dir: Path) -> None:
    model_dir = tiny_bert_dir if kind == "bert" else tiny_gpt2_dir
    reference, fast = _model(model_dir, kind, dropout), _model(model_dir, kind, dropout)
    layers = _svd_layers(fast)
    assert install_fast_forward(fast) == len(layers) > 0
    assert all(m.forward.__func__ is fast_svd_forward for m in layers)

    ref_logits, ref_grads = _forward_backward(reference, kind)
    fast_logits, fast_grads = _forward_backward(fast, kind)
    assert _close(fast_logits, ref_logits)
    assert ref_grads.keys() == fast_grads.keys()
    for name, grad in ref_grads.items():
        assert grad is not None and fast_grads[name] is not None, name
        assert _close(fast_grads[name], grad), (name, (fast_grads[name] - grad).abs().max())
    if dropout:  # the same draws: without dropout the outputs would differ by far more than the tolerance
        fast.eval()
        with __import__("torch").no_grad():
            assert not _close(fast(**_batch(kind)).logits, ref_logits)


def test_disabled_merged_and_autocast(tiny_bert_dir: Path) -> None:
    """A disabled or merged adapter goes through peft's forward; under bf16 autocast the fused forward agrees with
    peft's to bf16 precision (2**-8 relative per rounding)."""
    import torch

    reference, fast = _model(tiny_bert_dir, "bert"), _model(tiny_bert_dir, "bert")
    install_fast_forward(fast)
    batch = _batch("bert")
    for model in (reference, fast):
        model.eval()
    with torch.no_grad():
        with fast.disable_adapter():
            base = fast(**batch).logits
        with reference.disable_adapter():
            assert torch.equal(base, reference(**batch).logits)
        adapted = fast(**batch).logits
        assert not _close(adapted, base)
        fast.merge_adapter()
        assert _close(fast(**batch).logits, adapted)
        fast.unmerge_adapter()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            fast_bf16, ref_bf16 = fast(**batch).logits.float(), reference(**batch).logits.float()
    assert (fast_bf16 - ref_bf16).abs().max() <= 0.05 * ref_bf16.abs().max()


def test_uninstall_and_deep_copy(tiny_bert_dir: Path) -> None:
    """A deep copy's layers run on the copy's parameters; uninstalling gives peft's forward back."""
    import torch

    model = _model(tiny_bert_dir, "bert")
    install_fast_forward(model)
    clone = copy.deepcopy(model)
    for layer in _svd_layers(clone):
        assert layer.forward.__self__ is layer
    batch = _batch("bert")
    model.eval()
    clone.eval()
    with torch.no_grad():
        before = model(**batch).logits
        for name, p in clone.named_parameters():
            if "lora_A" in name:
                p.mul_(3.0)
        assert not _close(clone(**batch).logits, before)
        assert torch.equal(model(**batch).logits, before)
        uninstall_fast_forward(model)
        assert all("forward" not in vars(m) for m in _svd_layers(model))
        assert _close(model(**batch).logits, before)
