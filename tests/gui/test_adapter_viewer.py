"""File ▸ Open adapter…: an AdaLoRA adapter saved by plain peft opens with bars, heatmap and Λ spectra (a matrix at
rank 0 included); a LoRA adapter and a random folder get a message saying what they are."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from adalora_studio.gui.adapter_viewer import AdapterViewer, open_adapter
from adalora_studio.gui.main_window import MainWindow
from adalora_studio.gui.worker import TorchWorker
from tests.core.test_folder_kind import adalora_with_rank_zero  # noqa: F401  (module fixture)
from tests.png_dir import png_dir


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # noqa: ANN001
    win = MainWindow(worker=TorchWorker())
    qtbot.addWidget(win)
    yield win
    assert win.worker.shutdown(30_000)


def _notices(window: MainWindow) -> list[QMessageBox]:
    return [b for b in window.findChildren(QMessageBox) if b.objectName() == "notice"]


def test_plain_peft_adalora_adapter_opens_with_bars_heatmap_and_spectra(
        qtbot, window: MainWindow, adalora_with_rank_zero) -> None:  # noqa: ANN001, F811
    import torch

    torch.set_num_threads(1)
    folder, live = adalora_with_rank_zero
    assert window.open_adapter_action.text() == "Open &adapter…"
    job = open_adapter(window, str(folder))
    with qtbot.waitSignal(job.succeeded, timeout=60_000):
        pass
    viewer = window.adapter_viewers[-1]
    assert isinstance(viewer, AdapterViewer) and viewer.isVisible()
    snap = viewer.snapshot
    assert [float(h) for h in viewer.rank_bars.bars.opts["height"]] == [m.rank for m in snap.matrices]
    assert len(viewer.rank_bars.pruned.opts["x"]) == 1  # the rank-0 matrix is drawn as a pruned stub
    assert viewer.heatmap.grid.shape == (2, 2)
    import numpy as np

    kept_per_row = list(np.isfinite(viewer.spectra.grid).sum(axis=1))
    assert kept_per_row == [m.rank for m in snap.matrices]  # the rank-0 matrix: an empty row, nothing kept
    for m in snap.matrices:
        assert sorted((v for v in m.singular_values if not math.isnan(v)), key=abs) == sorted(live[m.module], key=abs)
    viewer.grab().save(str(png_dir("issue13") / "adapter_viewer_tiny.png"))


def test_foreign_folders_get_a_message_saying_what_they_are(qtbot, window: MainWindow, tiny_bert_dir: Path,
                                                            tmp_path: Path) -> None:  # noqa: ANN001
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification

    base = AutoModelForSequenceClassification.from_pretrained(str(tiny_bert_dir), num_labels=3)
    get_peft_model(base, LoraConfig(task_type="SEQ_CLS", r=4, target_modules=["query"])).save_pretrained(
        str(tmp_path / "lora"))
    assert open_adapter(window, str(tmp_path / "lora")) is None
    assert "plain LoRA" in _notices(window)[-1].text()
    (tmp_path / "random").mkdir()
    (tmp_path / "random" / "data.bin").write_bytes(b"\x00" * 16)
    assert open_adapter(window, str(tmp_path / "random")) is None
    assert "not a peft adapter" in _notices(window)[-1].text()
    assert open_adapter(window, str(tiny_bert_dir)) is None
    assert "full model" in _notices(window)[-1].text()
