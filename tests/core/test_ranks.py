"""Reading ranks and importance from a live peft AdaLoRA model (built directly with peft)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from adalora_studio.core.adalora import (
    normalize_rank_key,
    rank_mask_applied,
    read_rank_pattern,
    triplet_scores,
    write_rank_tables,
)
from adalora_studio.core.events import MatrixRank, RanksUpdated
from tests.core.engine_fixtures import (
    hand_built_adalora,
    random_batch,
    torch_single_thread,  # noqa: F401  (autouse fixture)
    train_by_hand,
)


@pytest.mark.parametrize("key", [
    "bert.encoder.layer.0.attention.self.query.lora_E.default",
    "bert.encoder.layer.0.attention.self.query.lora_E",
    "base_model.model.bert.encoder.layer.0.attention.self.query.lora_E.default",
    "bert.encoder.layer.0.attention.self.query",
])
def test_normalize_rank_key_gives_the_module_path(key: str) -> None:
    assert normalize_rank_key(key) == "bert.encoder.layer.0.attention.self.query"


def test_pattern_is_none_before_the_first_mask_and_sums_to_the_budget_after(tiny_bert_dir: Path) -> None:
    model = hand_built_adalora(tiny_bert_dir, total_step=20, tinit=2, tfinal=4, delta_t=2)
    assert read_rank_pattern(model) is None
    train_by_hand(model, steps=3)  # steps 0,1,2: warm-up, no mask yet (first mask at t > tinit, t % 2 == 0)
    assert read_rank_pattern(model) is None
    train_by_hand(model, steps=2, start=3)  # step 4 masks
    pattern = read_rank_pattern(model)
    assert pattern is not None and set(pattern) == {normalize_rank_key(k) for k in
                                                   model.peft_config["default"].rank_pattern}
    budget, _ = model.base_model.rankallocator.budget_schedule(4)
    assert sum(sum(flags) for flags in pattern.values()) == budget < 4 * 4


def test_triplet_scores_reproduce_the_allocators_mask(tiny_bert_dir: Path) -> None:
    """The triplets peft keeps at a mask step are exactly the top-`budget` of our recomputed scores."""
    import torch

    model = hand_built_adalora(tiny_bert_dir, total_step=20, tinit=2, tfinal=4, delta_t=2)
    train_by_hand(model, steps=4)
    params = [p for p in model.parameters() if p.requires_grad]
    # one more step by hand, reading the scores after update_ipt but before masking (as mask_to_budget does)
    out = model(**random_batch(model, seed=99))
    out.loss.backward()
    torch.optim.SGD(params, lr=0.0).step()
    ra = model.base_model.rankallocator
    ra.update_ipt(model.base_model.model)
    scores = triplet_scores(model)
    budget, _ = ra.budget_schedule(6)
    ra.update_ipt = lambda _model: None  # already updated for this step
    model.base_model.update_and_allocate(6)
    pattern = read_rank_pattern(model)
    flat = sorted(((s, m, i) for m, vals in scores.items() for i, s in enumerate(vals)), reverse=True)
    kept = {(m, i) for _, m, i in flat[:budget]}
    assert kept == {(m, i) for m, flags in pattern.items() for i, f in enumerate(flags) if f}


def test_scores_are_none_without_ema_state(tiny_bert_dir: Path) -> None:
    model = hand_built_adalora(tiny_bert_dir)
    assert triplet_scores(model) is None
    train_by_hand(model, steps=1)
    assert triplet_scores(model) is not None
    model.base_model.rankallocator.reset_ipt()
    assert triplet_scores(model) is None


def test_rank_mask_is_applied_and_restored(tiny_bert_dir: Path) -> None:
    import torch

    model = hand_built_adalora(tiny_bert_dir, total_step=20, tinit=2, tfinal=4, delta_t=2)
    train_by_hand(model, steps=6)  # masks at 4, then the optimizer regrows masked entries at step 5
    before = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_E" in n}
    pattern = read_rank_pattern(model)
    with rank_mask_applied(model) as changed:
        assert changed > 0
        for name, p in model.named_parameters():
            if "lora_E" in name:
                flags = torch.tensor(pattern[normalize_rank_key(name)])
                assert torch.all(p[~flags] == 0)
                assert torch.equal(p[flags], before[name][flags])
    for name, p in model.named_parameters():
        if "lora_E" in name:
            assert torch.equal(p, before[name])


def test_write_rank_tables(tmp_path: Path) -> None:
    event = RanksUpdated(step=10, budget=5, phase="final", total_rank=5, matrices=(
        MatrixRank(name="L0.query", module="bert.encoder.layer.0.attention.self.query", layer=0,
                   matrix_type="query", rank=3, init_rank=4, importance=(0.1, 0.2, 0.3, 0.0)),
        MatrixRank(name="pooler", module="bert.pooler.dense", layer=None, matrix_type="pooler",
                   rank=2, init_rank=4, importance=()),
    ))
    json_path, csv_path = write_rank_tables(event, tmp_path)
    doc = json.loads(json_path.read_text())
    assert doc["total_rank"] == 5 and doc["phase"] == "final" and doc["matrices"][0]["rank"] == 3
    rows = list(csv.DictReader(csv_path.open()))
    assert list(rows[0]) == ["module", "name", "layer", "matrix_type", "rank", "init_rank"]
    assert rows[0]["rank"] == "3" and rows[1]["layer"] == "" and rows[1]["name"] == "pooler"
