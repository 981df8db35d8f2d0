"""The fast allocator path against peft's own: identical rank_pattern at every step, weights within 1e-6.

With the whole fast path, the batched orthogonality term sums its terms in another order and the fused layer
forward rounds its product differently (see test_fast_forward.py): the loss and gradients differ from peft's by a
few float32 ulps, so the sensitivities |w * g| built from them differ by ~1e-6 of each tensor's scale, and the
EMAs are compared to 1e-5 of their largest magnitude (an elementwise rtol fails on entries where w * g nearly
cancels). With the allocator alone (peft's forward and orthogonality term, so identical gradients) the EMA
tensors are bit-identical.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from adalora_studio.core.adalora import (
    allocator_tensors,
    fast_allocator_of,
    install_fast_path,
    live_rank_pattern,
    uninstall_fast_forward,
    uninstall_fast_path,
    update_and_allocate,
)
from adalora_studio.core.adalora.fast_forward import fast_svd_forward
from tests.core.engine_fixtures import torch_single_thread  # noqa: F401  (autouse fixture)

TOTAL, TINIT, TFINAL, DELTA_T = 24, 3, 6, 2
DEVICE = os.environ.get("ADALORA_TEST_DEVICE", "cpu")
"""``cuda`` in benchmarks/gpu_check.sh: the same comparison on a GPU."""


def _model(model_dir: Path, kind: str) -> Any:
    import torch
    from peft import AdaLoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    torch.manual_seed(0)
    if kind == "bert":
        base = AutoModelForSequenceClassification.from_pretrained(str(model_dir), num_labels=3)
        cfg = AdaLoraConfig(task_type="SEQ_CLS", target_modules=["query", "key", "value", "dense"], init_r=4,
                            target_r=2, tinit=TINIT, tfinal=TFINAL, deltaT=DELTA_T, total_step=TOTAL, lora_alpha=8)
    else:
        base = AutoModelForCausalLM.from_pretrained(str(model_dir))
        cfg = AdaLoraConfig(task_type="CAUSAL_LM", target_modules=["c_attn", "c_fc", "c_proj"], init_r=4,
                            target_r=2, tinit=TINIT, tfinal=TFINAL, deltaT=DELTA_T, total_step=TOTAL,
                            lora_alpha=8, fan_in_fan_out=True)
    return get_peft_model(base, cfg).to(DEVICE)


def _batch(model: Any, kind: str, step: int) -> dict[str, Any]:
    import torch

    g = torch.Generator().manual_seed(step)
    ids = torch.randint(5, model.config.vocab_size, (4, 12), generator=g)
    labels = torch.randint(0, 3, (4,), generator=g) if kind == "bert" else ids.clone()
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    return {k: v.to(DEVICE) for k, v in batch.items()}


def _train(model: Any, kind: str, steps: int = TOTAL) -> list[tuple[Any, dict[str, Any]]]:
    """``steps`` AdamW steps through :func:`update_and_allocate`; per step the live pattern and the EMA state."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=2e-2)
    seen = []
    for i in range(steps):
        loss = model(**_batch(model, kind, i)).loss
        loss.backward()
        opt.step()
        update_and_allocate(model, i)
        opt.zero_grad()
        seen.append((live_rank_pattern(model), {k: v.clone() for k, v in allocator_tensors(model).items()}))
    return seen


def _ema_close(fast: Any, ref: Any, exact: bool) -> bool:
    import torch

    if exact:
        return torch.equal(fast, ref)
    return bool((fast - ref).abs().max() <= 1e-5 * ref.abs().max())


@pytest.mark.parametrize(("kind", "allocator_only"), [("bert", False), ("gpt2", False), ("bert", True)])
def test_fast_path_matches_peft_at_every_step(kind: str, allocator_only: bool, tiny_bert_dir: Path,
                                              tiny_gpt2_dir: Path) -> None:
    model_dir = tiny_bert_dir if kind == "bert" else tiny_gpt2_dir
    reference, fast = _model(model_dir, kind), _model(model_dir, kind)
    install_fast_path(fast)
    if allocator_only:  # peft's layer forward and orthogonality term, the batched allocator
        uninstall_fast_forward(fast)
        del vars(fast.base_model)["forward"]
    assert fast_allocator_of(fast) is not None and fast_allocator_of(reference) is None
    fused = [getattr(vars(m).get("forward"), "__func__", None) is fast_svd_forward for m in fast.modules()]
    assert any(fused) != allocator_only
    _compare_runs(reference, fast, kind, exact=allocator_only)


def _compare_runs(reference: Any, fast: Any, kind: str, exact: bool) -> None:
    import torch

    ref_seen, fast_seen = _train(reference, kind), _train(fast, kind)

    masked_steps = 0
    for step, ((ref_pattern, ref_ema), (fast_pattern, fast_ema)) in enumerate(zip(ref_seen, fast_seen, strict=True)):
        assert fast_pattern == ref_pattern, f"rank_pattern differs after step {step}"
        assert ref_ema.keys() == fast_ema.keys(), step
        for key, value in ref_ema.items():
            assert _ema_close(fast_ema[key], value, exact), (step, key)
        masked_steps += ref_pattern is not None
    assert masked_steps > TFINAL  # the budgeting phase and the final phase were both exercised
    ranks = [sum(v) for v in ref_seen[-1][0].values()]
    assert sum(ranks) == 2 * len(ranks) and len(set(ranks)) > 1  # the budget reached target, unevenly

    ref_params = dict(reference.named_parameters())
    for name, p in fast.named_parameters():
        assert torch.allclose(p, ref_params[name], atol=1e-6, rtol=0), (name, (p - ref_params[name]).abs().max())


def test_batched_orthogonality_term_equals_peft(tiny_bert_dir: Path) -> None:
    """The loss the model returns (task + weighted regulariser) and its gradients agree with peft's forward."""
    import torch

    reference, fast = _model(tiny_bert_dir, "bert"), _model(tiny_bert_dir, "bert")
    with torch.no_grad():  # a non-trivial P and Q (peft starts lora_B at zero)
        for model in (reference, fast):
            torch.manual_seed(1)
            for n, p in model.named_parameters():
                if "lora_" in n:
                    p.normal_()
    install_fast_path(fast)
    uninstall_fast_forward(fast)  # the orthogonality term alone (test_fast_forward.py checks the layer forward)
    batch = _batch(reference, "bert", 0)
    ref_loss, fast_loss = reference(**batch).loss, fast(**batch).loss
    assert fast_loss.item() == pytest.approx(ref_loss.item(), rel=1e-6)
    ref_loss.backward()
    fast_loss.backward()
    grads = {n: p.grad for n, p in reference.named_parameters() if p.grad is not None}
    for n, p in fast.named_parameters():
        if n in grads:
            assert torch.allclose(p.grad, grads[n], rtol=1e-5, atol=1e-6), n

    uninstall_fast_path(fast)
    assert fast_allocator_of(fast) is None and "forward" not in vars(fast.base_model)


def test_missing_gradient_is_named(tiny_bert_dir: Path) -> None:
    model = _model(tiny_bert_dir, "bert")
    install_fast_path(model)
    with pytest.raises(TypeError, match="lora_.*no gradient"):
        update_and_allocate(model, 0)


def test_a_deep_copy_uses_its_own_parameters(tiny_bert_dir: Path) -> None:
    """Exports deep-copy a live model: the copy's batched term must read the copy's P and Q, not the original's."""
    import copy

    import torch

    model = _model(tiny_bert_dir, "bert")
    install_fast_path(model)
    clone = copy.deepcopy(model)
    assert clone.base_model.forward.__self__ is clone.base_model
    batch = _batch(model, "bert", 0)
    assert clone(**batch).loss.item() == pytest.approx(model(**batch).loss.item(), rel=1e-6)
    with torch.no_grad():
        for n, p in clone.named_parameters():
            if "lora_A" in n:
                p.mul_(3.0)
    assert clone(**batch).loss.item() != pytest.approx(model(**batch).loss.item(), rel=1e-6)
