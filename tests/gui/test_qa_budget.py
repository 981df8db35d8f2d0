"""The budget page plans question answering from windows (long contexts split with doc stride), as ``validate``
and the engine do: counted on the worker, with the question count and an "estimating" note until then."""

from __future__ import annotations

import threading
from pathlib import Path

from adalora_studio.core.adalora import make_plan, paper_recipe_fix
from adalora_studio.core.data import inspect_dataset
from adalora_studio.core.model import describe_model
from adalora_studio.core.training import validate_run
from adalora_studio.gui.wizard import data_jobs
from adalora_studio.gui.wizard.budget import BudgetPage
from adalora_studio.gui.wizard.qa_windows import ESTIMATING
from adalora_studio.gui.wizard.state import WizardState
from adalora_studio.gui.wizard.wizard import Wizard
from tests.core.test_task_doctor import _long_contexts, _qa_cfg
from tests.gui.test_wizard import worker  # noqa: F401  (fixture)
from tests.png_dir import png_dir

SLOW_MS = 180_000
PNG = png_dir()


def _save(widget, name: str) -> None:  # noqa: ANN001
    if PNG.is_dir():
        assert widget.grab().save(str(PNG / f"qa-budget-{name}.png"))


def test_budget_page_plans_qa_from_the_windows_validate_counts(qtbot, worker, tiny_bert_dir: Path,  # noqa: ANN001, F811
                                                              tmp_path: Path) -> None:
    cfg = _qa_cfg(tiny_bert_dir, _long_contexts(tmp_path / "qa.jsonl"), tmp_path / "runs", epochs=2.0, max_steps=0)
    wizard = Wizard(worker, cfg)
    qtbot.addWidget(wizard)
    wizard.resize(1200, 900)
    wizard.show()
    wizard.go_to(2)
    page, state = wizard.budget_page, wizard.state
    release, held = threading.Event(), []

    def hold(summary: object) -> None:  # once the data is checked, hold the worker before the windows are counted
        if summary is not None and not held:
            held.append(worker.submit(release.wait, 60))

    state.data_summary_changed.connect(hold)
    try:
        qtbot.waitUntil(lambda: bool(held) and state.busy("qa-windows") and page.plan is not None
                        and not page._recompute_timer.isActive(), timeout=SLOW_MS)
        assert state.qa_windows.windows is None  # its request waits behind the held job
        questions = state.data_summary.n_train
        assert page.steps_label.text().startswith(ESTIMATING) and "≈" in page.steps_label.text()
        assert page.plan.total_steps == make_plan(state.config, questions, state.model_info).total_steps
        assert page.problem() is None  # estimating does not hold the wizard back
        _save(wizard, "estimating")
    finally:
        release.set()
    qtbot.waitUntil(lambda: wizard.dataset_page.problem() is None and not state.busy("qa-windows")
                    and state.qa_windows.windows is not None and not page._recompute_timer.isActive(),
                    timeout=SLOW_MS)
    qtbot.waitUntil(lambda: "training windows from" in page.steps_label.text(), timeout=10_000)
    report = validate_run(state.config)  # the count the engine trains on (tests/core/test_task_doctor.py)
    assert state.qa_windows.windows == report.data.n_train > questions
    plan = page.plan
    assert (plan.total_steps, plan.steps_per_epoch, plan.tinit_steps, plan.tfinal_steps) == (
        report.plan.total_steps, report.plan.steps_per_epoch, report.plan.tinit_steps, report.plan.tfinal_steps)
    assert plan.total_steps != make_plan(state.config, questions, state.model_info).total_steps
    text = page.steps_label.text()
    assert text.startswith(f"{report.plan.total_steps:,} optimizer steps") and "Estimating" not in text
    assert f"{report.data.n_train:,} training windows from {questions:,} questions" in text
    qtbot.waitUntil(lambda: page.advice.isVisible() and not page.advice._timer.isActive()
                    and all(label.isVisible() for label, _button in page.advice.rows), timeout=10_000)
    titles = [label.text() for label, _button in page.advice.rows]  # a short run: advised from the windows' steps
    assert f"⚠ Only {report.plan.total_steps} optimizer steps (advised: 100 or more)" in titles, titles
    assert page.advice._recipe == paper_recipe_fix(state.config, report.plan)
    _save(wizard, "windows")
    wizard.go_to(4)  # the review page says where the steps come from
    assert (f"{questions:,} train" in wizard.review_page.summary.text()
            and f"{report.data.n_train:,} training windows" in wizard.review_page.summary.text())
    data_jobs._WINDOWS.clear()  # counted from scratch (not the doctor's count) it is the same
    assert data_jobs.qa_windows(state.config) == (report.data.n_train, questions)


def test_without_the_count_the_page_says_it_is_approximate(qtbot, tiny_bert_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    cfg = _qa_cfg(tiny_bert_dir, _long_contexts(tmp_path / "qa.jsonl"), tmp_path / "runs", epochs=2.0, max_steps=0)
    state = WizardState(None, cfg)  # no worker: the windows cannot be counted
    page = BudgetPage(state)
    qtbot.addWidget(page)
    state.set_model_info(describe_model(cfg.model, cfg.task))
    state.set_data_summary(inspect_dataset(cfg))
    qtbot.waitUntil(lambda: page.plan is not None and state.qa_windows is not None
                    and state.qa_windows.note != ESTIMATING and not page._recompute_timer.isActive(), timeout=10_000)
    text = page.steps_label.text()
    assert text.startswith("Approximate: the windows could not be counted (No background worker") and "≈" in text
    assert page.plan.total_steps == make_plan(cfg, state.data_summary.n_train, state.model_info).total_steps
