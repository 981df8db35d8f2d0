"""The wizard's review page checks the runs folder up front: writable, with room for the run."""

from __future__ import annotations

from pathlib import Path

from adalora_studio.core.config import demo_config
from adalora_studio.gui.wizard.review import ReviewPage
from adalora_studio.gui.wizard.state import WizardState
from tests.core.test_disk_space import read_only_folder  # noqa: F401  (fixture)
from tests.png_dir import png_dir


def test_review_blocks_a_read_only_runs_folder(qtbot, read_only_folder: Path, tmp_path: Path) -> None:  # noqa: ANN001, F811
    state = WizardState(None, demo_config().replace(output_dir=str(read_only_folder)))
    page = ReviewPage(state)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    problem = page.problem() or ""
    # the GUI names its own label for the field (the CLI keeps the key output_dir)
    assert problem.startswith("Runs folder:") and str(read_only_folder) in problem
    assert page.errors.isVisible() and "Runs folder" in page.errors.text()
    page.grab().save(str(png_dir("issue8") / "review_read_only_folder.png"))

    state.set_config(state.config.replace(output_dir=str(tmp_path / "runs")))
    assert page.problem() is None and not page.errors.isVisible()
