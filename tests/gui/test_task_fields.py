"""The wizard's task settings box: shown per task, writes the QA and generation fields of the config."""

from __future__ import annotations

from pathlib import Path

from adalora_studio.core.config import demo_config
from adalora_studio.gui.wizard.state import WizardState
from adalora_studio.gui.wizard.task_fields import TaskFieldsBox


def test_fields_follow_the_task_and_write_the_config(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    state = WizardState(None, demo_config())
    box = TaskFieldsBox(state)
    qtbot.addWidget(box)
    assert box.isHidden()  # classification has no task settings
    state.set_config(demo_config("question-answering"))
    assert not box.isHidden() and box.stride.isVisibleTo(box) and not box.rows.isVisibleTo(box)
    with qtbot.waitSignal(box.changed):
        box.stride.setValue(20)
    assert state.config.data.doc_stride == 20
    box.metric_combo.setCurrentIndex(box.metric_combo.findData("squad_v2"))
    assert state.config.data.eval_metric == "squad_v2"
    state.set_config(demo_config("seq2seq"))
    assert box.rows.isVisibleTo(box) and not box.stride.isVisibleTo(box)
    assert box.columns["source_column"].isVisibleTo(box) and not box.columns["question_column"].isVisibleTo(box)
    box.metric_combo.setCurrentIndex(box.metric_combo.findData("bleu"))
    box.rows.setValue(5)
    box.fallback.setChecked(True)
    d = state.config.data
    assert (d.eval_metric, d.generation_eval_rows, d.metric_fallback_to_loss) == ("bleu", 5, True)
    grab = box.grab()
    assert grab.save(str(tmp_path / "task-fields.png"))
