"""The training page's memory options (gradient checkpointing, 4-bit base) and precision land in the saved run.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adalora_studio.core.config import demo_config, load_config
from adalora_studio.gui.wizard.memory_options import MERGE_NOTE
from adalora_studio.gui.wizard.review import ReviewPage
from adalora_studio.gui.wizard.state import WizardState
from adalora_studio.gui.wizard.training import TrainingPage
from adalora_studio.gui.worker import TorchWorker
from tests.png_dir import png_dir

PNG = png_dir()
GPU_WITH_QUANT = {"cuda": True, "mps": False, "cuda_name": "GPU (probe data for this test)", "cuda_count": 1,
                  "bf16": True, "threads": 8, "auto_device": "cuda", "auto_precision": "bf16", "bitsandbytes": True}
"""What the device probe reports on a machine with a CUDA GPU and the quant extra."""


def _pages(qtbot, state: WizardState) -> tuple[TrainingPage, ReviewPage]:  # noqa: ANN001
    training, review = TrainingPage(state), ReviewPage(state)
    for page in (training, review):
        qtbot.addWidget(page)
    training.resize(1200, 820)
    training.show()
    return training, review


def _saved(review: ReviewPage, path: Path) -> dict:
    review.save_to(str(path))
    assert load_config(path) == review.state.config
    return json.loads(path.read_text(encoding="utf-8"))


def test_checkpointing_precision_and_4bit_land_in_run_json(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    state = WizardState(None, demo_config().replace(task="causal-lm"))
    training, review = _pages(qtbot, state)
    memory = training.memory
    assert not memory.checkpointing.isChecked() and not memory.four_bit.isChecked()

    memory.checkpointing.setChecked(True)
    training.precision.setCurrentText("bf16")
    saved = _saved(review, tmp_path / "a.json")
    assert saved["training"]["gradient_checkpointing"] is True and saved["training"]["precision"] == "bf16"
    assert saved["model"]["load_in_4bit"] is False

    state.set_devices(GPU_WITH_QUANT)
    assert memory.four_bit.isEnabled() and memory.unavailable is None
    memory.four_bit.setChecked(True)
    saved = _saved(review, tmp_path / "b.json")
    assert saved["model"]["load_in_4bit"] is True and saved["training"]["gradient_checkpointing"] is True
    assert MERGE_NOTE in memory.four_bit_note.text() and training.problem() is None
    training.grab().save(str(PNG / "launch-gui-training-4bit.png"))

    memory.checkpointing.setChecked(False)
    memory.four_bit.setChecked(False)
    saved = _saved(review, tmp_path / "c.json")
    assert saved["model"]["load_in_4bit"] is False and saved["training"]["gradient_checkpointing"] is False


def test_a_chosen_4bit_base_that_cannot_run_here_blocks_and_can_be_switched_off(qtbot) -> None:  # noqa: ANN001
    cfg = demo_config().replace(task="causal-lm")
    state = WizardState(None, cfg.replace(model=cfg.model.__class__(**{**cfg.model.__dict__, "load_in_4bit": True})))
    training, _review = _pages(qtbot, state)
    state.set_devices({**GPU_WITH_QUANT, "bitsandbytes": False})
    memory = training.memory
    assert memory.four_bit.isChecked() and memory.four_bit.isEnabled()  # enabled: it can be undone
    assert "pip install 'adalora-studio[quant]'" in (training.problem() or "")
    memory.four_bit.setChecked(False)
    assert not state.config.model.load_in_4bit and not memory.four_bit.isEnabled()
    assert training.problem() is None


def test_4bit_is_for_causal_lms_only(qtbot) -> None:  # noqa: ANN001
    state = WizardState(None, demo_config())  # text classification
    training, _review = _pages(qtbot, state)
    state.set_devices(GPU_WITH_QUANT)
    assert not training.memory.four_bit.isEnabled()
    assert "Causal LM" in training.memory.four_bit_note.text()
    assert training.memory.checkpointing.isEnabled()


@pytest.fixture
def worker(qtbot):  # noqa: ANN001, ANN201 - pytest-qt fixture
    w = TorchWorker()
    yield w
    assert w.shutdown(30_000)


def test_the_real_device_probe_says_what_is_missing_here(qtbot, worker) -> None:  # noqa: ANN001
    state = WizardState(worker, demo_config().replace(task="causal-lm"))
    training, _review = _pages(qtbot, state)
    training.entered()  # probes the devices on the worker
    qtbot.waitUntil(lambda: state.devices is not None, timeout=120_000)
    assert isinstance(state.devices["bitsandbytes"], bool)
    memory = training.memory
    if state.devices["cuda"] and state.devices["bitsandbytes"]:
        assert memory.four_bit.isEnabled()
    else:
        assert not memory.four_bit.isEnabled()
        missing = "CUDA GPU" if not state.devices["cuda"] else "bitsandbytes"
        assert missing in memory.four_bit_note.text() and MERGE_NOTE in memory.four_bit_note.text()
        training.grab().save(str(PNG / "launch-gui-training-page.png"))
