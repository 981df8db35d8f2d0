"""The budget page edits only the fields it shows: every other BudgetConfig field survives an edit."""

from __future__ import annotations

from dataclasses import dataclass

from adalora_studio.core.config import BudgetConfig, RunConfig
from adalora_studio.gui.wizard.budget import BudgetPage
from adalora_studio.gui.wizard.state import WizardState
from tests.png_dir import png_dir


@dataclass(frozen=True)
class FutureBudget(BudgetConfig):
    """A BudgetConfig with a field the page does not know (as a later version might add)."""

    new_knob: int = 7


def test_an_edit_keeps_the_fields_the_page_does_not_show(qtbot) -> None:  # noqa: ANN001
    budget = FutureBudget(new_knob=3, beta1=0.9, beta2=0.95, orth_reg_weight=0.25, lora_alpha=16.0,
                          lora_dropout=0.1, init_r=12, target_r=8)
    state = WizardState(None, RunConfig(budget=budget))
    page = BudgetPage(state)
    qtbot.addWidget(page)
    page.init_spin.setValue(16)
    page.tinit_spin.setValue(0.15)
    after = state.config.budget
    assert (after.init_r, after.tinit) == (16, 0.15)  # the edits arrived
    assert isinstance(after, FutureBudget) and after.new_knob == 3
    assert (after.beta1, after.beta2, after.orth_reg_weight, after.lora_alpha, after.lora_dropout) == (
        0.9, 0.95, 0.25, 16.0, 0.1)


def test_page_builds_every_control(qtbot) -> None:  # noqa: ANN001
    page = BudgetPage(WizardState(None, RunConfig()))
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    assert page.preset_combo.count() > 1 and page.mode_combo.count() == 3
    assert (page.init_spin.maximum(), page.delta_spin.maximum(), page.batch_spin.maximum()) == (512, 100000, 4096)
    assert page.init_spin.toolTip() and page.accum_spin.toolTip()
    qtbot.waitUntil(lambda: page.problem() != "Updating the plan…", timeout=5000)
    assert "Waiting for the model" in (page.problem() or "")
    page.grab().save(str(png_dir("issue8") / "budget_page_bare.png"))
