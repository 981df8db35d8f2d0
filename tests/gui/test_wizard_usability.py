"""What a new user hit in the wizard: the CLI command, task changes, the bundled causal LM, stale panels,
implausible values, labels in messages, the sidebar, the run name, and using the wizard while a run trains."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from adalora_studio.core import paths
from adalora_studio.core.config import ModelConfig, RunConfig, demo_config, load_config, with_section
from adalora_studio.gui.labels import for_gui
from adalora_studio.gui.wizard.bundled_models import bundled_model_for, gguf_start_dir, is_bundled_choice
from adalora_studio.gui.wizard.dataset import run_name_for
from adalora_studio.gui.wizard.review import configs_dir
from adalora_studio.gui.wizard.wizard import Wizard
from adalora_studio.gui.worker import TorchWorker
from tests.png_dir import png_dir

SLOW_MS = 180_000
PNG = png_dir("issue15")


@pytest.fixture
def worker(qtbot):  # noqa: ANN001, ANN201 - pytest-qt fixture
    w = TorchWorker()
    yield w
    assert w.shutdown(30_000)


def make_wizard(qtbot, worker, cfg: RunConfig | None = None) -> Wizard:  # noqa: ANN001
    wizard = Wizard(worker, cfg or demo_config())
    qtbot.addWidget(wizard)
    wizard.resize(1200, 820)
    wizard.show()
    return wizard


def snap(widget, name: str) -> None:  # noqa: ANN001
    """Save a PNG of the view for the issue's closing note (when the notes folder exists)."""
    if PNG.parent.is_dir():
        PNG.mkdir(exist_ok=True)
        widget.grab().save(str(PNG / f"{name}.png"))


def _csv(tmp_path: Path, name: str = "My Tickets.csv") -> Path:
    path = tmp_path / name
    rows = [f"ticket number {i} about {'billing' if i % 2 else 'login'},{'billing' if i % 2 else 'login'}"
            for i in range(40)]
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_cli_command_always_runs_exactly_what_the_wizard_shows(qtbot) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, None)
    wizard.go_to(4)
    review = wizard.review_page
    assert "not saved yet" in review.cli_label.text()  # no relative demo.json that does not exist
    command = review.copy_command()  # saves to a real, absolute path first
    file = Path(shlex.split(command)[-1])
    assert file.is_absolute() and file.parent == configs_dir() and file.is_file()
    assert QGuiApplication.clipboard().text() == command
    assert load_config(file) == wizard.config
    assert str(file) in review.cli_label.text()

    wizard.state.update("training", learning_rate=2e-4)  # the wizard changed: the command must not go stale
    assert "changed since" in review.cli_label.text() and str(file) not in review.cli_label.text().split("since")[0]
    again = review.copy_command()
    assert again == command and load_config(file).training.learning_rate == 2e-4
    snap(wizard, "review_cli_saved")


def test_opening_a_config_file_shows_its_command_until_the_wizard_changes(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, None)
    review = wizard.review_page
    review.save_to(str(tmp_path / "a.json"))
    assert f"adalora-studio train {tmp_path / 'a.json'}" in review.cli_label.text()
    wizard.state.update("", name="other")
    assert "changed since" in review.cli_label.text()


def test_changing_the_task_revalidates_the_dataset_page(qtbot, worker, tmp_path: Path) -> None:  # noqa: ANN001
    data = _csv(tmp_path)
    cfg = with_section(demo_config(), "data", train_file=str(data), format="auto", text_columns=(),
                       label_column="")
    wizard = make_wizard(qtbot, worker, cfg)
    page = wizard.dataset_page
    qtbot.waitUntil(lambda: page.problem() is None, timeout=SLOW_MS)
    assert len(wizard.state.data_summary.label_names) == 2
    wizard.go_to(1)
    old_summary = wizard.state.data_summary
    wizard.state.update("", task="causal-lm")
    assert wizard.state.data_summary is None  # the classification summary ("2 labels") is gone at once
    # Checked again for the new task: a text column is plain-text causal-LM data (main's "text" layout), so the
    # check may pass; what matters is that it ran again and no classification facts survive.
    qtbot.waitUntil(lambda: not (page.problem() or "").endswith("…") and (
        page.problem() is not None or wizard.state.data_summary is not None), timeout=SLOW_MS)
    summary = wizard.state.data_summary
    assert summary is not old_summary
    if summary is None:
        assert "“" in page.problem()  # a GUI label, not a config key
    else:
        assert not page.combos["label"].isVisibleTo(page) and "label" not in page.dist_label.text()
    snap(wizard, "dataset_causal_lm_on_classification_data")
    assert wizard.config.model.source == "gguf"  # "Bundled" follows the task: SmolLM2, not the BERT encoder
    wizard.go_to(4)
    assert "label" not in wizard.review_page.summary.text().split("Rows")[-1].split("Budget")[0]
    # Let the worker finish describing SmolLM2 (the task change asked for it) before the test ends.
    qtbot.waitUntil(lambda: getattr(wizard.state.model_info, "architecture", "") == "LlamaForCausalLM",
                    timeout=SLOW_MS)


def test_bundled_choice_is_the_task_s_bundled_model() -> None:
    gguf = bundled_model_for("causal-lm")
    assert gguf.source == "gguf" and gguf.path.endswith(".gguf") and "SmolLM2" in Path(gguf.path).name
    assert is_bundled_choice(gguf, "causal-lm") and not is_bundled_choice(gguf, "text-classification")
    assert bundled_model_for("text-classification") == ModelConfig(source="bundled")
    assert gguf_start_dir("") == str(Path.home())  # never the working directory (the runs folder)
    assert gguf_start_dir(gguf.path) == str(Path(gguf.path).parent)


def test_bundled_causal_lm_is_offered_on_the_task_page(qtbot) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, None)
    page = wizard.task_page
    page.task_buttons["causal-lm"].setChecked(True)
    assert page.source_buttons["bundled"].isChecked()
    assert wizard.config.model == bundled_model_for("causal-lm")
    assert "SmolLM2" in page.bundled_label.text()
    assert wizard.config.data.train_file == str(paths.demo_causal_lm_file())
    snap(wizard, "task_bundled_smollm2")


def test_stale_dataset_panels_are_cleared(qtbot, worker, tmp_path: Path) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, worker)
    wizard.go_to(1)
    page = wizard.dataset_page
    qtbot.waitUntil(lambda: page.problem() is None, timeout=SLOW_MS)
    assert "training rows" in page.split_label.text()
    page.file_edit.setText(str(tmp_path / "gone.csv"))
    page.file_edit.editingFinished.emit()
    assert page.split_label.text() == "—" and page.dist_label.text() == ""  # not the old file's counts
    qtbot.waitUntil(lambda: "gone.csv" in (page.problem() or ""), timeout=SLOW_MS)
    assert page.split_label.text() == "—"

    page.use_demo()
    qtbot.waitUntil(lambda: page.problem() is None, timeout=SLOW_MS)
    page.eval_file_edit.setText(str(tmp_path / "missing-eval.csv"))
    page.eval_file_edit.editingFinished.emit()
    qtbot.waitUntil(lambda: "missing-eval.csv" in (page.problem() or ""), timeout=SLOW_MS)
    assert page.problem().startswith("Eval file:")
    assert page.eval_file_error.isVisible() and "Eval file:" in page.eval_file_error.text()
    assert not page.file_error.isVisible()  # not under the training-file field
    snap(wizard, "dataset_eval_file_error")
    page.eval_file_edit.setText("")
    page.eval_file_edit.editingFinished.emit()
    assert not page.eval_file_error.isVisible()
    qtbot.waitUntil(lambda: page.problem() is None, timeout=SLOW_MS)


def test_implausible_values_are_kept_and_warned_about(qtbot) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, None)
    training = wizard.training_page
    training.lr.setValue(5.0)
    assert wizard.config.training.learning_rate == 5.0  # not silently 0.99
    assert "Learning rate" in training.checks.text() and "between 0 and 1" in training.checks.text()
    assert training.problem() and "Learning rate" in training.problem()
    training.lr.setValue(0.05)
    assert wizard.config.training.learning_rate == 0.05 and training.problem() is None
    assert "very high" in training.checks.text()
    snap(wizard.training_page, "training_lr_warning")
    wizard.go_to(4)
    assert wizard.review_page.advice.isVisible() and "Learning rate" in wizard.review_page.advice.text()

    dataset = wizard.dataset_page
    dataset.eval_spin.setValue(0.95)
    assert wizard.config.data.eval_fraction == 0.95  # not silently 0.90
    assert not dataset.eval_advice.isHidden() and "more rows than it trains" in dataset.eval_advice.text()


def test_a_config_value_the_spin_box_cannot_show_is_reported_not_clamped(qtbot) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, None, with_section(demo_config(), "data", eval_fraction=1.5))
    wizard.dataset_page._on_mapping()
    assert wizard.config.data.eval_fraction == 1.5
    wizard.go_to(4)
    assert "Eval fraction" in (wizard.problem() or "")


def test_messages_name_gui_labels() -> None:
    assert for_gui("budget.target_r: must be smaller than init_r (12)") == \
        "Target rank (target_r): must be smaller than init_r (12)"
    assert "“Label column”" in for_gui("x.csv: could not find a label; set data.label_column to one of: a")


def test_sidebar_steps_navigate(qtbot) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, None)
    assert wizard.problem() is not None  # no worker: page 1 cannot finish, yet the sidebar still navigates
    item = wizard.steps.item(3)
    rect = wizard.steps.visualItemRect(item)
    qtbot.mouseClick(wizard.steps.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert wizard.current_index == 3
    assert not wizard.start_button.isVisible()
    wizard.steps.setCurrentRow(4)
    assert wizard.current_index == 4 and not wizard.start_button.isEnabled()


def test_run_name_follows_the_data_file(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    assert run_name_for("/data/My Tickets.csv") == "my-tickets"
    wizard = make_wizard(qtbot, None)
    page = wizard.dataset_page
    data = _csv(tmp_path)
    page.file_edit.setText(str(data))
    page.file_edit.editingFinished.emit()
    assert wizard.config.name == "my-tickets"
    wizard.state.update("", name="mine")
    page.file_edit.setText(str(_csv(tmp_path, "other.csv")))
    page.file_edit.editingFinished.emit()
    assert wizard.config.name == "mine"  # a name the user typed is kept


class _BusyWorker:
    """A worker that is training: jobs are accepted and wait (as TorchWorker queues them behind the run)."""

    is_running = True

    def __init__(self) -> None:
        from PySide6.QtCore import QObject, Signal

        class Job(QObject):
            succeeded = Signal(object)
            failed = Signal(str, str)

        self._job_cls = Job
        self.jobs: list[object] = []

    def submit(self, fn, *args, **kwargs):  # noqa: ANN001, ANN201
        job = self._job_cls()
        self.jobs.append(job)
        return job


def test_the_wizard_stays_usable_while_a_run_trains(qtbot) -> None:  # noqa: ANN001
    busy = _BusyWorker()
    wizard = make_wizard(qtbot, busy)
    assert wizard.problem() == "Reading the model's configuration…"  # the check waits behind the run
    assert wizard.next_button.isEnabled()
    assert "busy" not in wizard.reason.text() and "when the current training run ends" in wizard.reason.text()
    snap(wizard, "wizard_while_training")
    for _ in range(4):
        qtbot.wait(150)  # let each page's timers run (the budget page waits for the model's matrices)
        assert wizard.next(), wizard.problem()
    assert wizard.current_index == 4
    assert wizard.start_button.isEnabled() and wizard.start_button.text().startswith("Queue run")
    with qtbot.waitSignal(wizard.start_requested) as started:
        qtbot.mouseClick(wizard.start_button, Qt.MouseButton.LeftButton)
    assert started.args[0] == wizard.config
    busy.is_running = False  # the run ended; its checks have not answered yet: now they block again
    wizard._update_buttons()
    assert not wizard.start_button.isEnabled()


def test_error_banners_do_not_move_the_buttons(qtbot) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, None)
    wizard.go_to(3)
    wizard.reason.show_message(None)
    qtbot.wait(50)
    before = wizard.next_button.mapTo(wizard, wizard.next_button.rect().topLeft())
    wizard.reason.show_message("Give the run a name.")
    qtbot.wait(50)
    assert wizard.next_button.mapTo(wizard, wizard.next_button.rect().topLeft()) == before


def test_advanced_budget_settings_are_collapsed_with_tooltips(qtbot) -> None:  # noqa: ANN001
    wizard = make_wizard(qtbot, None)
    wizard.go_to(2)
    adv = wizard.budget_page.advanced
    assert adv.isVisible() and not adv.body.isVisible()
    assert set(adv.spins) == {"lora_alpha", "lora_dropout", "orth_reg_weight", "beta1", "beta2"}
    assert all(spin.toolTip() for spin in adv.spins.values())
    adv.toggle.click()
    assert adv.body.isVisible()
    adv.spins["lora_dropout"].setValue(0.1)
    adv.spins["beta1"].setValue(0.8)
    assert wizard.config.budget.lora_dropout == 0.1 and wizard.config.budget.beta1 == 0.8
    snap(wizard, "budget_advanced_open")
