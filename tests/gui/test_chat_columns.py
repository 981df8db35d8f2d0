"""The dataset page's Columns box for causal-LM chat and instruction files, offscreen, with the real worker: it says
which row layout was detected, maps only the columns that layout reads, follows the "Rows are:" override, and
saves the mapping that applies."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from adalora_studio.core.config import ModelConfig, RunConfig, with_section
from adalora_studio.gui.wizard.wizard import Wizard
from adalora_studio.gui.worker import TorchWorker

SLOW_MS = 180_000
N_ROWS = 24


@pytest.fixture
def worker(qtbot):  # noqa: ANN001, ANN201 - pytest-qt fixture
    w = TorchWorker()
    yield w
    assert w.shutdown(30_000)


def _rows(kind: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for i in range(N_ROWS):
        question, answer = f"What is {i} plus one?", f"It is {i + 1}."
        if kind == "messages":
            rows.append({"messages": [{"role": "system", "content": "Answer briefly."},
                                      {"role": "user", "content": question},
                                      {"role": "assistant", "content": answer}]})
        elif kind == "sharegpt":
            rows.append({"conversations": [{"from": "human", "value": question}, {"from": "gpt", "value": answer}]})
        elif kind == "alpaca":
            rows.append({"instruction": "Add one.", "input": str(i) if i % 2 else "", "output": answer})
        else:
            rows.append({"prompt": question, "response": answer})
    return rows


def _write(tmp_path: Path, kind: str) -> Path:
    if kind == "prompt-response":
        path = tmp_path / "pairs.csv"
        path.write_text("prompt,response\n" + "".join(f'"{r["prompt"]}","{r["response"]}"\n' for r in _rows(kind)),
                        encoding="utf-8")
        return path
    path = tmp_path / f"{kind}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows(kind)), encoding="utf-8")
    return path


# kind -> (what auto detects, prompt/response rows shown, their labels, saved (prompt_column, response_column))
EXPECTED = {
    "messages": ("OpenAI messages ('messages')", False, None, ("", "")),
    "sharegpt": ("ShareGPT conversations ('conversations')", False, None, ("", "")),
    "alpaca": ("Alpaca ('instruction', 'input', 'output')", True, ("Instruction column:", "Output column:"),
               ("instruction", "output")),
    "prompt-response": ("prompt/response ('prompt', 'response')", True, ("Prompt column:", "Response column:"),
                        ("prompt", "response")),
}
WHOLE = ": each row is a whole conversation, so no columns to map."


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_columns_box_maps_what_the_chat_layout_reads(qtbot, worker, kind: str, tiny_gpt2_dir: Path,  # noqa: ANN001
                                                     tmp_path: Path) -> None:
    detected, mapped, labels, saved = EXPECTED[kind]
    line = f"Detected {detected}" + (WHOLE if kind in ("messages", "sharegpt") else ".")
    cfg = with_section(RunConfig(task="causal-lm", model=ModelConfig(source="folder", path=str(tiny_gpt2_dir))),
                       "data", train_file=str(_write(tmp_path, kind)), max_length=32)
    wizard = Wizard(worker, cfg)
    qtbot.addWidget(wizard)
    wizard.resize(1200, 900)
    wizard.show()
    wizard.go_to(1)
    page = wizard.dataset_page
    box, form = page.columns_box, page.columns_box.form
    qtbot.waitUntil(lambda: wizard.problem() is None, timeout=SLOW_MS)

    def shown(prompt_response: bool, alpaca: bool) -> None:
        assert box.layout_label.isVisibleTo(page)
        for key in ("prompt", "response"):
            assert box.rows[key].isVisibleTo(page) is prompt_response
        assert box.input_label.isVisibleTo(page) is alpaca
        for key in ("text", "text2", "label"):
            assert not box.rows[key].isVisibleTo(page)

    assert box.layout_label.text() == line
    shown(mapped, kind == "alpaca")
    if labels:
        assert (form.labelForField(box.rows["prompt"]).text(), form.labelForField(box.rows["response"]).text()) \
            == labels
        assert (box.combos["prompt"].currentText(), box.combos["response"].currentText()) == saved
    if kind == "alpaca":
        assert box.input_label.text() == "'input', joined to the instruction when not empty"
    d = wizard.state.config.data
    assert (d.chat_format, d.prompt_column, d.response_column) == ("auto", *saved)
    summary = wizard.state.data_summary
    assert summary is not None and summary.n_train + summary.n_eval == N_ROWS
    doctor = page.doctor_view
    qtbot.waitUntil(lambda: doctor.report is not None, timeout=SLOW_MS)
    png = tmp_path / f"chat-columns-{kind}.png"
    qtbot.wait(200)
    assert page.grab().save(str(png))
    if os.environ.get("STUDIO_PNG_DIR"):
        shutil.copy(png, Path(os.environ["STUDIO_PNG_DIR"]) / png.name)

    # The override: read the rows as a layout they are not, then go back to auto.
    other = "prompt-response" if kind in ("messages", "sharegpt", "alpaca") else "messages"
    page.format_options.layout_combo.setCurrentText(other)
    assert wizard.state.config.data.chat_format == other
    assert box.layout_label.text() == (("prompt/response" if other == "prompt-response" else "OpenAI messages")
                                       + f", as set in “Rows are:” (detected: {detected}).")
    shown(other == "prompt-response", False)
    if other == "prompt-response":
        assert form.labelForField(box.rows["prompt"]).text() == "Prompt column:"
    else:
        assert (wizard.state.config.data.prompt_column, wizard.state.config.data.response_column) == ("", "")
    if kind != "alpaca":  # Alpaca's instruction/output still map a prompt-response reading; the others do not
        qtbot.waitUntil(lambda: "data.chat_format" in (wizard.problem() or "")
                        or "Rows are" in (wizard.problem() or ""), timeout=SLOW_MS)
    page.format_options.layout_combo.setCurrentText("auto")
    qtbot.waitUntil(lambda: wizard.problem() is None, timeout=SLOW_MS)
    assert box.layout_label.text() == line
    shown(mapped, kind == "alpaca")
    d = wizard.state.config.data
    assert (d.chat_format, d.prompt_column, d.response_column) == ("auto", *saved)
