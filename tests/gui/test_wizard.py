"""The new-fine-tune wizard, offscreen, with the real worker: walk it, and check every page blocks bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from adalora_studio.core import paths
from adalora_studio.core.config import (
    BUDGET_PRESETS,
    ModelConfig,
    RunConfig,
    bundled_causal_lm_gguf,
    demo_config,
    load_config,
    with_section,
)
from adalora_studio.gui.wizard.wizard import Wizard
from adalora_studio.gui.worker import TorchWorker

SLOW_MS = 180_000  # first use of transformers/datasets in the worker on a busy 2-core machine


@pytest.fixture
def worker(qtbot):  # noqa: ANN001, ANN201 - pytest-qt fixture
    w = TorchWorker()
    yield w
    assert w.shutdown(30_000)


def make_wizard(qtbot, worker: TorchWorker, cfg: RunConfig | None = None) -> Wizard:  # noqa: ANN001
    wizard = Wizard(worker, cfg or RunConfig())
    qtbot.addWidget(wizard)
    wizard.resize(1200, 820)
    wizard.show()
    return wizard


def wait_ready(qtbot, wizard: Wizard, timeout: int = SLOW_MS) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: wizard.problem() is None, timeout=timeout)


def wait_problem(qtbot, wizard: Wizard, text: str, timeout: int = SLOW_MS) -> str:  # noqa: ANN001
    qtbot.waitUntil(lambda: text in (wizard.problem() or ""), timeout=timeout)
    assert not wizard.next_button.isEnabled()
    assert wizard.reason.isVisible() and text in wizard.reason.text()
    return wizard.problem() or ""


def choose_preset(wizard: Wizard, name: str) -> None:
    combo = wizard.budget_page.preset_combo
    index = combo.findText(name)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_walk_wizard_with_bundled_model_and_demo_data(qtbot, worker, tmp_path: Path) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, worker)
    page1 = wizard.task_page
    assert page1.source_buttons["bundled"].isChecked()
    assert "all-MiniLM-L6-v2" in page1.bundled_label.text() and "22.7M" in page1.bundled_label.text()
    assert not page1.hub_edit.isEnabled()  # tests run with HF_HUB_OFFLINE=1
    wait_ready(qtbot, wizard)
    assert "BertForSequenceClassification" in page1.arch_label.text()
    assert page1.matrices_label.text().startswith("36 matrices")
    assert wizard.state.model_info.n_params > 20_000_000

    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.current_index == 1
    wait_problem(qtbot, wizard, "Choose a training data file")
    page2 = wizard.dataset_page
    qtbot.mouseClick(page2.demo_button, Qt.MouseButton.LeftButton)
    wait_ready(qtbot, wizard)
    assert page2.table_model.rowCount() == 50 and page2.table_model.columnCount() == 2
    assert page2.table_model.headerData(0, Qt.Orientation.Horizontal) == "text  [text]"
    assert page2.combos["text"].currentText() == "text" and page2.combos["label"].currentText() == "label"
    summary = wizard.state.data_summary
    assert summary.n_train + summary.n_eval == 1200 and len(summary.label_names) == 5
    assert f"{summary.n_train:,} training rows" in page2.split_label.text()
    assert "billing" in page2.dist_label.text()

    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    page3 = wizard.budget_page
    choose_preset(wizard, "Quick demo")
    wait_ready(qtbot, wizard)
    plan = page3.plan
    quick = next(p for p in BUDGET_PRESETS if p.name == "Quick demo").budget
    assert (plan.init_r, plan.target_r, plan.delta_t) == (quick.init_r, quick.target_r, quick.delta_t)
    xs, ys = page3.plot.curve.getData()
    assert len(xs) == plan.total_steps and ys[0] == plan.init_r * 36 and ys[-1] == plan.target_r * 36
    assert f"{plan.trainable_init:,}" in page3.meter.memory_label.text()
    assert f"{plan.trainable_target:,}" in page3.meter.kept_label.text()
    # Epochs on this page change the step count and the curve.
    steps_before = plan.total_steps
    page3.epochs_spin.setValue(1.0)
    qtbot.waitUntil(lambda: page3.plan is not None and page3.plan.total_steps != steps_before, timeout=5000)
    assert len(page3.plot.curve.getData()[0]) == page3.plan.total_steps
    # Untick every query matrix: the config names the other five types.
    query = page3.tree.findItems("query (6)", Qt.MatchFlag.MatchExactly)[0]
    query.setCheckState(0, Qt.CheckState.Unchecked)
    qtbot.waitUntil(lambda: page3.plan is not None and len(page3.plan.targets) == 30, timeout=5000)
    assert wizard.config.budget.target_modules == ("key", "value", "attn_out", "ffn_in", "ffn_out")

    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    page4 = wizard.training_page
    assert page4.epochs.value() == 1.0  # the budget page's edit reached the training page
    page4.seed.setValue(7)
    qtbot.waitUntil(lambda: "auto →" in page4.device_note.text(), timeout=SLOW_MS)
    wait_ready(qtbot, wizard)

    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.current_index == 4
    page5 = wizard.review_page
    wait_ready(qtbot, wizard)
    cfg = wizard.config
    assert cfg.model == ModelConfig(source="bundled")
    assert Path(cfg.data.train_file) == paths.demo_classification_file()
    assert cfg.data.text_columns == ("text",) and cfg.data.label_column == "label"
    assert (cfg.budget.init_r, cfg.budget.target_r) == (quick.init_r, quick.target_r)
    assert cfg.training.epochs == 1.0 and cfg.training.seed == 7
    assert page5.json_view.toPlainText() == cfg.to_json()
    target = tmp_path / "run.json"
    page5.save_to(str(target))
    assert load_config(target) == cfg  # the GUI writes the file the CLI reads
    qtbot.mouseClick(page5.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == f"adalora-studio train {target}"
    qtbot.waitUntil(wizard.start_button.isEnabled, timeout=5000)  # the budget page re-plans after the seed edit
    assert [p.problem() for p in wizard.pages] == [None] * 5 and wizard.start_button.isVisible()
    with qtbot.waitSignal(wizard.start_requested, timeout=2000) as blocker:
        qtbot.mouseClick(wizard.start_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [cfg]


def test_task_page_blocks_invalid_models(qtbot, worker, tmp_path: Path, tiny_bert_dir: Path) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, worker)
    page = wizard.task_page
    page.source_buttons["folder"].setChecked(True)
    wait_problem(qtbot, wizard, "Choose a model folder.")

    missing = tmp_path / "no-such-model"
    page.folder_edit.setText(str(missing))
    page.folder_edit.textEdited.emit(str(missing))
    problem = wait_problem(qtbot, wizard, str(missing))
    assert page.source_error.isVisible() and page.source_error.text() == problem

    page.source_buttons["gguf"].setChecked(True)
    page.gguf_edit.setText("/models/model.bin")
    page.gguf_edit.textEdited.emit("/models/model.bin")
    wait_problem(qtbot, wizard, "must end in .gguf")

    page.source_buttons["hub"].setChecked(True)
    wait_problem(qtbot, wizard, "Hub models are unavailable: offline mode is on")

    page.source_buttons["folder"].setChecked(True)
    page.folder_edit.setText(str(tiny_bert_dir))
    page.folder_edit.textEdited.emit(str(tiny_bert_dir))
    wait_ready(qtbot, wizard)
    assert wizard.config.model == ModelConfig(source="folder", path=str(tiny_bert_dir))
    assert "Bert" in page.arch_label.text()


def test_dataset_page_shows_core_errors_next_to_the_control(qtbot, worker, tmp_path: Path) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, worker)
    wait_ready(qtbot, wizard)
    wizard.next()
    page = wizard.dataset_page

    missing = tmp_path / "nothing.csv"
    page.file_edit.setText(str(missing))
    page.file_edit.editingFinished.emit()
    wait_problem(qtbot, wizard, "nothing.csv")
    assert page.file_error.isVisible()

    bad = tmp_path / "tickets.csv"
    bad.write_text("text,label\nhello there,a\nmy card was charged twice,b\nthe app crashes,\nsee you,a\n")
    page.file_edit.setText(str(bad))
    page.file_edit.editingFinished.emit()
    problem = wait_problem(qtbot, wizard, "label")
    assert "row" in problem
    assert page.combo_errors["label"].isVisible() and page.combo_errors["label"].text() == problem
    assert not page.file_error.isVisible()


def test_budget_page_blocks_invalid_combinations(qtbot, worker) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, worker, demo_config())
    wait_ready(qtbot, wizard)
    wizard.next()
    wait_ready(qtbot, wizard)
    wizard.next()
    page = wizard.budget_page
    wait_ready(qtbot, wizard)

    page.target_spin.setValue(page.init_spin.value())
    wait_problem(qtbot, wizard, "smaller than init_r")
    assert page.plan_error.isVisible()
    page.target_spin.setValue(2)
    wait_ready(qtbot, wizard)

    page.tinit_spin.setValue(0.5)
    page.tfinal_spin.setValue(0.5)
    wait_problem(qtbot, wizard, "leave no budgeting phase")
    page.tinit_spin.setValue(0.1)
    page.tfinal_spin.setValue(0.2)
    wait_ready(qtbot, wizard)

    qtbot.mouseClick(page.none_button, Qt.MouseButton.LeftButton)
    wait_problem(qtbot, wizard, "Check at least one matrix")
    qtbot.mouseClick(page.defaults_button, Qt.MouseButton.LeftButton)
    wait_ready(qtbot, wizard)

    page.mode_combo.setCurrentIndex(page.mode_combo.findData("percent"))
    wait_ready(qtbot, wizard)
    assert page.value_spin.isVisible() and page.equiv_label.text().startswith("= init_r")
    page.value_spin.setValue(0.001)
    wait_problem(qtbot, wizard, "less than one rank")


def test_training_page_blocks_bad_values(qtbot, worker) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, worker, demo_config())
    wizard.go_to(3)
    page = wizard.training_page
    page.name.setText("")
    page.name.textEdited.emit("")
    wait_problem(qtbot, wizard, "Give the run a name.")
    page.name.setText("mine")
    page.name.textEdited.emit("mine")
    assert wizard.config.name == "mine"
    qtbot.waitUntil(lambda: wizard.state.devices is not None, timeout=SLOW_MS)
    if not wizard.state.devices["cuda"]:
        page.device.setCurrentText("cuda")
        wait_problem(qtbot, wizard, "no CUDA GPU is available")
        page.device.setCurrentText("auto")
    assert wizard.training_page.problem() is None


def test_review_lists_config_problems(qtbot, worker) -> None:  # noqa: ANN001
    cfg = with_section(demo_config(), "data", eval_fraction=1.5)
    wizard = make_wizard(qtbot, worker, cfg)
    wizard.go_to(4)
    assert "Eval fraction:" in (wizard.problem() or "")
    assert wizard.review_page.errors.isVisible()
    assert not wizard.start_button.isEnabled()


def test_loading_a_config_updates_every_page(qtbot, worker) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, worker, demo_config())
    wizard.go_to(1)
    wait_ready(qtbot, wizard)
    cfg = with_section(with_section(demo_config(), "data", eval_fraction=0.3), "training", seed=9, epochs=2.0)
    cfg = with_section(cfg, "budget", init_r=6, target_r=3)
    wizard.set_config(cfg, page=4)
    wait_ready(qtbot, wizard)
    assert wizard.dataset_page.eval_spin.value() == pytest.approx(0.3)
    qtbot.waitUntil(lambda: wizard.state.data_summary is not None and wizard.state.data_summary.n_eval == 360,
                    timeout=SLOW_MS)
    assert wizard.budget_page.init_spin.value() == 6 and wizard.budget_page.epochs_spin.value() == 2.0
    assert wizard.training_page.seed.value() == 9
    qtbot.waitUntil(wizard.start_button.isEnabled, timeout=SLOW_MS)
    assert wizard.config == cfg  # loading a config into the pages does not change it


def test_recent_menus_fill_the_fields(qtbot, worker, tiny_bert_dir: Path) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, worker)
    demo = str(paths.demo_classification_file())
    wizard.set_recent([str(tiny_bert_dir)], [demo])
    wizard.task_page.recent_menu.actions()[0].trigger()
    assert wizard.config.model == ModelConfig(source="folder", path=str(tiny_bert_dir))
    wizard.dataset_page.recent_menu.actions()[0].trigger()
    assert wizard.config.data.train_file == demo
    assert not wizard.training_page.recent_button.isEnabled()  # no runs folder used yet
    wizard.set_recent([str(tiny_bert_dir)], [demo], [str(tiny_bert_dir.parent)])
    assert wizard.training_page.recent_button.isEnabled()
    wizard.training_page.recent_menu.actions()[0].trigger()
    assert wizard.config.output_dir == str(tiny_bert_dir.parent)
    assert wizard.training_page.output.text() == str(tiny_bert_dir.parent)


def test_causal_lm_with_a_tiny_gpt2_maps_prompt_and_response(qtbot, worker, tiny_gpt2_dir: Path) -> None:  # noqa: ANN001
    cfg = RunConfig(task="causal-lm", model=ModelConfig(source="folder", path=str(tiny_gpt2_dir)))
    wizard = make_wizard(qtbot, worker, cfg)
    assert wizard.task_page.task_buttons["causal-lm"].isChecked()
    wait_ready(qtbot, wizard)
    assert wizard.state.model_info.matrices[0].layer_kind == "conv1d"
    wizard.next()
    page = wizard.dataset_page
    assert not page.combos["label"].isVisibleTo(page) and page.combos["prompt"].isVisibleTo(page)
    qtbot.mouseClick(page.demo_button, Qt.MouseButton.LeftButton)
    wait_ready(qtbot, wizard)
    assert Path(wizard.config.data.train_file) == paths.demo_causal_lm_file()
    assert (wizard.config.data.prompt_column, wizard.config.data.response_column) == ("prompt", "response")
    wizard.next()
    wait_ready(qtbot, wizard)
    assert wizard.budget_page.plan.total_steps > 0


def test_dropping_a_file_on_the_dataset_page_reads_it(qtbot, worker, tmp_path: Path) -> None:  # noqa: ANN001
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    data = tmp_path / "pairs.tsv"
    data.write_text("sentence\tlabel\n" + "".join(f"row number {i}\t{'ab'[i % 2]}\n" for i in range(40)))
    wizard = make_wizard(qtbot, worker)
    wizard.go_to(1)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(data))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    wizard.dataset_page.dropEvent(event)
    assert wizard.config.data.train_file == str(data)
    qtbot.waitUntil(lambda: wizard.state.data_preview is not None, timeout=SLOW_MS)
    assert wizard.state.data_preview.format == "tsv"
    assert wizard.dataset_page.combos["text"].currentText() == "sentence"


def test_switching_task_swaps_the_demo_dataset_and_the_bundled_model(qtbot, worker) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, worker, demo_config())
    wizard.task_page.task_buttons["causal-lm"].setChecked(True)
    assert Path(wizard.config.data.train_file) == paths.demo_causal_lm_file()
    # "Bundled" now means the task's bundled model: SmolLM2 (GGUF) for causal LM, not the BERT encoder.
    assert wizard.task_page.source_buttons["bundled"].isChecked()
    assert wizard.config.model == ModelConfig(source="gguf", path=str(bundled_causal_lm_gguf()))
    assert "SmolLM2" in wizard.task_page.bundled_label.text()
    wait_ready(qtbot, wizard)
    assert wizard.state.model_info.architecture == "LlamaForCausalLM"
    wizard.task_page.task_buttons["text-classification"].setChecked(True)
    assert Path(wizard.config.data.train_file) == paths.demo_classification_file()
    wait_ready(qtbot, wizard)


def test_model_and_data_work_runs_on_the_worker_thread(qtbot, worker, monkeypatch) -> None:  # noqa: ANN001
    import threading

    from adalora_studio.gui.wizard import jobs

    threads: dict[str, int] = {}
    for name in ("describe", "preview", "inspect", "probe_devices"):
        real = getattr(jobs, name)

        def traced(*args, _real=real, _name=name):  # noqa: ANN001, ANN202
            threads[_name] = threading.get_ident()
            return _real(*args)

        monkeypatch.setattr(jobs, name, traced)
    from adalora_studio.gui.wizard import data_jobs

    real_doctor = data_jobs.doctor

    def traced_doctor(*args):  # noqa: ANN001, ANN202
        threads["doctor"] = threading.get_ident()
        return real_doctor(*args)

    monkeypatch.setattr(data_jobs, "doctor", traced_doctor)
    wizard = make_wizard(qtbot, worker, demo_config())
    wizard.go_to(3)
    qtbot.waitUntil(lambda: len(threads) == 5 and all(p.problem() is None for p in wizard.pages), timeout=SLOW_MS)
    assert threading.get_ident() not in threads.values()
    assert len(set(threads.values())) == 1  # one long-lived worker thread does all of it


def test_hub_reason_names_offline_mode_or_the_unreachable_host(monkeypatch) -> None:
    from adalora_studio.gui.wizard import jobs

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert "HF_HUB_OFFLINE=1" in (jobs.hub_unavailable_reason() or "")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: nothing listens there
    assert "cannot be reached" in (jobs.hub_unavailable_reason() or "")
