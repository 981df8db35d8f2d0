"""Opening any folder as an adapter: a plain-peft AdaLoRA adapter with rank-0 matrices shows its allocation; a LoRA
adapter, another peft type and a random folder each get a message saying what they are."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from adalora_studio.core.adalora import (
    KIND_ADALORA,
    KIND_LORA,
    KIND_NOT_PEFT,
    KIND_OTHER_PEFT,
    adapter_snapshot,
    classify_folder,
)
from tests.core.engine_fixtures import (
    hand_built_adalora,
    torch_single_thread,  # noqa: F401  (autouse fixture)
    train_by_hand,
)


@pytest.fixture(scope="module")
def adalora_with_rank_zero(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Saved by peft itself; one matrix forced to rank 0 through peft's own rank_pattern and mask."""
    model = hand_built_adalora(tiny_bert_dir, total_step=10, tinit=1, tfinal=2, delta_t=1)
    train_by_hand(model, 6)
    cfg = model.peft_config["default"]
    pattern = {k: list(v) for k, v in cfg.rank_pattern.items()}
    zero_key = sorted(pattern)[0]
    pattern[zero_key] = [False] * len(pattern[zero_key])
    cfg.rank_pattern = pattern
    model.base_model.rankallocator.mask_using_rank_pattern(model.base_model.model, pattern)
    live = {}
    for name, param in model.named_parameters():
        if ".lora_E." in name:
            module = name.removeprefix("base_model.model.").rsplit(".lora_E.", 1)[0]
            flags = pattern[name.removeprefix("base_model.model.")]
            live[module] = [v for v, k in zip(param.detach().reshape(-1).tolist(), flags, strict=True) if k]
    out = tmp_path_factory.mktemp("adalora-zero")
    model.save_pretrained(str(out))
    return out, live


def test_plain_peft_adalora_adapter_with_rank_zero_opens(adalora_with_rank_zero) -> None:
    folder, live = adalora_with_rank_zero
    kind = classify_folder(folder)
    assert kind.kind == KIND_ADALORA and "1 of them (matrices) at rank 0" in kind.message
    snap = adapter_snapshot(folder)
    assert sum(1 for m in snap.matrices if m.rank == 0) == 1
    for m in snap.matrices:
        saved = [v for v in m.singular_values if not math.isnan(v)]
        assert saved == live[m.module]  # Λ spectra read back from the folder equal the live values
        assert len(m.singular_values) == m.init_rank
        assert (m.orth_residual is None) == (m.rank == 0)
    assert snap.total_rank == sum(m.rank for m in snap.matrices)


def test_lora_and_other_peft_adapters_are_named(tiny_bert_dir: Path, tmp_path: Path) -> None:
    from peft import IA3Config, LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification

    base = AutoModelForSequenceClassification.from_pretrained(str(tiny_bert_dir), num_labels=3)
    get_peft_model(base, LoraConfig(task_type="SEQ_CLS", r=4, target_modules=["query", "value"])).save_pretrained(
        str(tmp_path / "lora"))
    kind = classify_folder(tmp_path / "lora")
    assert kind.kind == KIND_LORA and "plain LoRA" in kind.message and "rank 4" in kind.message
    base = AutoModelForSequenceClassification.from_pretrained(str(tiny_bert_dir), num_labels=3)
    get_peft_model(base, IA3Config(task_type="SEQ_CLS", target_modules=["query", "value"],
                                   feedforward_modules=[])).save_pretrained(str(tmp_path / "ia3"))
    kind = classify_folder(tmp_path / "ia3")
    assert kind.kind == KIND_OTHER_PEFT and "IA3" in kind.message


def test_random_folders_are_not_peft_adapters(tiny_bert_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    kind = classify_folder(tmp_path)
    assert kind.kind == KIND_NOT_PEFT and "no adapter_config.json" in kind.message
    assert "full model" in classify_folder(tiny_bert_dir).message
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "adapter_config.json").write_text("{not json")
    assert classify_folder(bad).kind == KIND_NOT_PEFT
    assert classify_folder(tmp_path / "missing").kind == KIND_NOT_PEFT
