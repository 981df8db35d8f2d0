"""The adapter folder's README is a filled model card, and the loading recipe it gives works with plain peft."""

from __future__ import annotations

from pathlib import Path

import pytest

from adalora_studio import __version__
from adalora_studio.core.config import demo_config
from adalora_studio.core.events import Finished, MatrixRank, RanksUpdated
from adalora_studio.core.export import model_card_text
from adalora_studio.core.training import Engine
from tests.core.engine_fixtures import (
    bert_config,
    small_classification_csv,
    torch_single_thread,  # noqa: F401  (autouse fixture)
)


def _ranks() -> RanksUpdated:
    mats = tuple(MatrixRank(name=f"L{i}.{t}", module=f"layer.{i}.{t}", layer=i, matrix_type=t,
                            rank=(i + 1) if t == "query" else 0, init_rank=8, importance=())
                 for i in range(3) for t in ("query", "value"))
    return RanksUpdated(step=60, budget=6, phase="final", total_rank=6, matrices=mats)


def test_model_card_names_everything_a_reader_needs() -> None:
    cfg = demo_config()
    text = model_card_text(cfg, 1020, 180, _ranks(), {"accuracy": 0.9125, "eval_loss": 0.31},
                           ("billing", "bug"))
    assert text.startswith("# demo: an AdaLoRA adapter")
    assert f"AdaLoRA Studio {__version__}" in text
    assert "all-MiniLM-L6-v2" in text and cfg.data.train_file in text
    assert "1,020 training rows, 180 evaluation rows" in text and "text-classification (2 labels" in text
    assert f"init_r {cfg.budget.init_r} → target_r {cfg.budget.target_r}" in text
    assert "| query | 3 | 2.00 | 1 | 3 |" in text and "| value | 3 | 0.00 | 0 | 0 |" in text
    assert "Fully pruned matrices: 3" in text
    assert "- accuracy: 0.9125" in text and "PeftModel.from_pretrained" in text
    assert "num_labels=2" in text and "3 epochs" in text
    assert "rank_pattern keys did not match" in text  # peft's harmless load warning is explained


@pytest.mark.slow
def test_finished_run_writes_the_card_and_it_loads_with_plain_peft(tiny_bert_dir: Path, tmp_path: Path) -> None:
    tickets = small_classification_csv(tmp_path, 48)
    cfg = bert_config(tiny_bert_dir, tickets, tmp_path / "runs", max_steps=6)
    events = list(Engine(cfg).events())
    finished = events[-1]
    assert isinstance(finished, Finished), finished
    card = (Path(finished.adapter_dir) / "README.md").read_text(encoding="utf-8")
    assert "# engine-test: an AdaLoRA adapter" in card and str(tiny_bert_dir) in card
    assert "Final ranks" in card and "rank-1 triplets in total" in card and "## Final metrics" in card
    for key, value in finished.metrics.items():
        assert f"- {key}: {value:.4g}" in card

    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification

    n_labels = int(card.split("num_labels=")[1].split(")")[0])
    base = AutoModelForSequenceClassification.from_pretrained(str(tiny_bert_dir), num_labels=n_labels)
    model = PeftModel.from_pretrained(base, finished.adapter_dir)
    assert model.peft_config["default"].peft_type.value == "ADALORA"
    pattern = model.peft_config["default"].rank_pattern
    key, kept = next(iter(pattern.items()))
    module = model.get_submodule(key.split(".lora_E")[0])
    assert module.lora_E["default"].shape[0] == sum(kept)  # sized from the saved ranks, not init_r


def test_data_errors_do_not_repeat_the_column(tmp_path: Path) -> None:
    from adalora_studio.core.config import with_section
    from adalora_studio.core.data import inspect_dataset
    from adalora_studio.core.errors import DataError

    data = tmp_path / "t.csv"
    data.write_text("review,label\nnice,a\n,b\nbad,a\nok,b\n", encoding="utf-8")
    cfg = with_section(demo_config(), "data", train_file=str(data), format="csv", text_columns=("review",),
                       label_column="label")
    with pytest.raises(DataError) as err:
        inspect_dataset(cfg)
    assert str(err.value).count("column 'review'") == 1, str(err.value)
    cfg = with_section(cfg, "data", text_columns=("label",))
    with pytest.raises(DataError) as err:
        inspect_dataset(cfg)
    assert str(err.value).count("column 'label'") == 1 and "both as a text column" in str(err.value)


def test_plan_summary_says_1_epoch_not_1_epochs() -> None:
    import inspect as _inspect

    import adalora_studio.core.adalora.plan as plan_module
    from adalora_studio.core.adalora.plan import RunPlan  # noqa: F401 - the text lives on the plan

    assert "epoch{'' if self.epochs == 1 else 's'}" in _inspect.getsource(plan_module)
