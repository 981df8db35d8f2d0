"""The budget page's schedule advice: the warning with its reason, the one-click fix, the paper recipe."""

from __future__ import annotations

from adalora_studio.core.config import demo_config, with_section
from tests.gui.test_wizard import make_wizard, wait_ready, worker  # noqa: F401  (fixture)
from tests.png_dir import png_dir

PNG = png_dir("issue9")


def test_budget_page_advises_and_fixes_the_schedule(qtbot, worker) -> None:  # noqa: ANN001, F811
    cfg = with_section(with_section(demo_config(), "training", epochs=1.0), "budget", tinit=0.3, tfinal=0.4,
                       delta_t=5)
    wizard = make_wizard(qtbot, worker, cfg)
    wait_ready(qtbot, wizard)
    wizard.next()
    wait_ready(qtbot, wizard)
    wizard.next()
    page = wizard.budget_page
    wait_ready(qtbot, wizard)
    qtbot.waitUntil(lambda: page.advice.isVisible(), timeout=10_000)
    texts = [label.toolTip() for label, _ in page.advice.rows]
    assert any("budgeting phase is" in t and "half of training" in t for t in texts), texts
    assert page.advice.rows[0][0].text() == "⚠ Budgeting phase: 31% of training (advised: about half)"
    if PNG.parent.is_dir():
        PNG.mkdir(parents=True, exist_ok=True)
        wizard.grab().save(str(PNG / "budget_advice.png"))
    page.advice.rows[0][1].click()  # the budgeting-share fix
    qtbot.waitUntil(lambda: wizard.config.budget.tfinal == 0.4 and wizard.config.budget.tinit == 0.1,
                    timeout=10_000)
    page.advice.recipe_button.click()
    qtbot.waitUntil(lambda: wizard.config.budget.orth_reg_weight == 0.1, timeout=10_000)
    qtbot.waitUntil(lambda: len(page.advice.rows) == 1, timeout=10_000)  # only the run's length is left
    assert page.advice.rows[0][0].text() == "⚠ Only 64 optimizer steps (advised: 100 or more)"
    b = wizard.config.budget
    assert (b.tinit, b.tfinal, b.orth_reg_weight) == (0.1, 0.4, 0.1) and b.init_r == 6  # target_r 4 -> 6
