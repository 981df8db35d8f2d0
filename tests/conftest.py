"""Shared test setup: headless Qt, an isolated home folder, the repository on sys.path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every platformdirs location at a temporary folder so tests never touch the user's files."""
    home = tmp_path_factory.mktemp("studio-home")
    monkeypatch.setenv("ADALORA_STUDIO_HOME", str(home))
    monkeypatch.delenv("ADALORA_STUDIO_RUNS", raising=False)
    return home


# ------------------------------------------------------------------ tiny models (owner: MODELS)


def _tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, kind: str) -> Path:
    from tests.tiny_models import make_tiny_model

    return make_tiny_model(kind, tmp_path_factory.mktemp(f"tiny-{kind}"))


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BERT folder (hidden 32, 2 layers) for ``ModelConfig(source="folder", path=...)``; built once."""
    return _tiny_model_dir(tmp_path_factory, "bert")


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny GPT-2 causal LM folder (pad token set; also loads for sequence classification); built once."""
    return _tiny_model_dir(tmp_path_factory, "gpt2")


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Llama causal LM folder (pad token set; also loads for sequence classification); built once."""
    return _tiny_model_dir(tmp_path_factory, "llama")


@pytest.fixture(scope="session")
def tiny_t5_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny T5 seq2seq folder (AutoModelForSeq2SeqLM; inputs and targets end with <eos>); built once."""
    return _tiny_model_dir(tmp_path_factory, "t5")


@pytest.fixture(scope="session")
def tiny_bart_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BART seq2seq folder (AutoModelForSeq2SeqLM); built once."""
    return _tiny_model_dir(tmp_path_factory, "bart")


@pytest.fixture(autouse=True)
def no_modal_file_dialogs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file (or input) dialog that a test forgot to replace would wait for a click forever (offscreen:
    invisibly) and hang the whole suite. Fail at once instead; a test that needs one replaces it with monkeypatch
    as usual."""
    if "qtbot" not in request.fixturenames:
        return
    from PySide6.QtWidgets import QFileDialog

    def refuse(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("a modal file or input dialog opened in a test; replace it with monkeypatch")

    for name in ("getSaveFileName", "getOpenFileName", "getOpenFileNames", "getExistingDirectory"):
        monkeypatch.setattr(QFileDialog, name, staticmethod(refuse))
    from PySide6.QtWidgets import QInputDialog

    for name in ("getInt", "getText", "getItem", "getDouble"):  # modal too ("Compare with LoRA…" asks for seeds)
        monkeypatch.setattr(QInputDialog, name, staticmethod(refuse))


@pytest.fixture(autouse=True)
def collect_garbage_on_the_main_thread(request: pytest.FixtureRequest):  # noqa: ANN201
    """As the app does (gui/gc_guard.py): no automatic cyclic collection while a Qt test runs, so the torch worker
    thread never frees Qt objects; the test's garbage is collected here, on the main thread, afterwards."""
    import gc

    if "qtbot" not in request.fixturenames:
        yield
        return
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()
