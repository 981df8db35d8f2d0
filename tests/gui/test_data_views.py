"""The dataset page's reading options and dataset doctor, offscreen, with the real worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from adalora_studio.core.config import demo_config, with_section
from adalora_studio.gui.wizard.data_doctor_view import MASKED_STYLE, TRAINED_STYLE, render_html
from adalora_studio.gui.wizard.wizard import Wizard
from adalora_studio.gui.worker import TorchWorker

SLOW_MS = 180_000


@pytest.fixture
def worker(qtbot):  # noqa: ANN001, ANN201 - pytest-qt fixture
    w = TorchWorker()
    yield w
    assert w.shutdown(30_000)


def test_render_html_styles_masked_and_trained_parts_apart() -> None:
    text = render_html([("<|im_start|>user\nhi", False), ("hello & bye", True)])
    assert f"<span style='{MASKED_STYLE}'>&lt;|im_start|&gt;user↵<br>hi</span>" in text
    assert f"<span style='{TRAINED_STYLE}'>hello &amp; bye</span>" in text


def test_dataset_page_shows_separator_and_doctor_without_blocking(qtbot, worker, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "excel.csv"
    path.write_text("text;label\n" + "".join(f'"order {i}; where is it";{"ab"[i % 2]}\n' for i in range(40)),
                    encoding="utf-8")
    wizard = Wizard(worker, with_section(demo_config(), "data", train_file=str(path), max_length=16))
    qtbot.addWidget(wizard)
    wizard.resize(1200, 900)
    wizard.show()
    wizard.go_to(1)
    page = wizard.dataset_page
    doctor = page.doctor_view
    qtbot.waitUntil(lambda: doctor.report is not None, timeout=SLOW_MS)
    assert "Detected separator: semicolon" in page.format_options.detected.text()
    assert page.state.data_preview.columns == ("text", "label")
    assert sum(n for _lo, _hi, n in doctor.report.bins) == doctor.report.sample_rows > 0
    assert "suggested max_length" in doctor.figures.text()
    # Overriding the separator with one that leaves a single column is refused, next to the file.
    page.format_options.delimiter.setCurrentIndex(1)  # comma
    qtbot.waitUntil(lambda: "single column" in (wizard.problem() or ""), timeout=SLOW_MS)
    assert page.state.config.data.delimiter == ","
    page.format_options.delimiter.setCurrentIndex(0)  # auto again
    qtbot.waitUntil(lambda: wizard.problem() is None, timeout=SLOW_MS)


@pytest.mark.parametrize("task", ["question-answering", "seq2seq"])
def test_dataset_page_doctor_for_the_new_tasks(qtbot, worker, task: str, tiny_bert_dir: Path,  # noqa: ANN001
                                               tiny_t5_dir: Path, tmp_path: Path) -> None:
    import os
    import shutil

    from adalora_studio.core.config import ModelConfig
    from adalora_studio.core.data import run_doctor
    from adalora_studio.core.model import load_tokenizer
    from adalora_studio.core.paths import demo_causal_lm_file, demo_qa_file

    qa = task == "question-answering"
    model = ModelConfig(source="folder", path=str(tiny_bert_dir if qa else tiny_t5_dir))
    data = ({"train_file": str(demo_qa_file()), "format": "jsonl", "max_length": 64, "doc_stride": 16} if qa else
            {"train_file": str(demo_causal_lm_file()), "format": "jsonl", "source_column": "prompt",
             "target_column": "response", "max_length": 16})
    cfg = with_section(demo_config().replace(task=task, model=model), "data", **data)
    wizard = Wizard(worker, cfg)
    qtbot.addWidget(wizard)
    wizard.resize(1200, 900)
    wizard.show()
    wizard.go_to(1)
    doctor = wizard.dataset_page.doctor_view
    qtbot.waitUntil(lambda: doctor.report is not None, timeout=SLOW_MS)
    assert not doctor.isHidden()  # shown on the page, not only computed
    expected = run_doctor(wizard.state.config, load_tokenizer(model))
    assert doctor.report == expected
    text = doctor.figures.text()
    if qa:
        assert f"<b>{expected.n_windows:,}</b> windows for {expected.sample_rows:,} questions" in text
        assert expected.n_windows > expected.sample_rows and "answers fit in no window" in text
        assert doctor.histogram.getAxis("bottom").labelText == "question + context tokens"
    else:
        assert "of targets" in text and "empty targets" in text and len(doctor.histogram.second.opts["x"]) > 0
    path = tmp_path / f"doctor-{task}.png"
    wizard.resize(1200, 1500)  # room for every line of the doctor
    qtbot.wait(200)
    assert doctor.grab().save(str(path))
    if os.environ.get("STUDIO_PNG_DIR"):
        shutil.copy(path, Path(os.environ["STUDIO_PNG_DIR"]) / f"newtasks-doctor-{task}.png")
