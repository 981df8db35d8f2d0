"""Fixtures several core test modules share: AdaLoRA adapters trained with peft (built once per module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.export_fixtures import Trained, train_adalora


@pytest.fixture(scope="module")
def bert(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return train_adalora(tiny_bert_dir, tmp_path_factory.mktemp("bert-ada"), "text-classification", ["query", "value"],
                  zero_one=False)


@pytest.fixture(scope="module")
def gpt2(tiny_gpt2_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return train_adalora(tiny_gpt2_dir, tmp_path_factory.mktemp("gpt2-ada"), "causal-lm", ["c_attn", "c_fc"],
                  zero_one=True)
