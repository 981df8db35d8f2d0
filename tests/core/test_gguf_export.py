"""GGUF export of a Llama-family causal LM run: the file loads back through transformers' ``gguf_file=`` and its
logits equal the merged model's within the stated tolerance (f16 and q8_0); the Modelfile carries the template."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from adalora_studio.cli import EXIT_OK, main
from adalora_studio.core.config import BudgetConfig, DataConfig, ModelConfig, RunConfig, TrainingConfig
from adalora_studio.core.errors import ModelError
from tests.core.engine_fixtures import small_instructions_jsonl, torch_single_thread  # noqa: F401

F16_TOLERANCE = 1e-2
"""Largest absolute logit difference allowed at f16 (weights rounded to half precision)."""
Q8_TOLERANCE = 5e-2
"""At q8_0 (8-bit blocks of 32 with one f16 scale each)."""
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


@pytest.fixture(scope="module")
def bpe_llama_dir(tiny_llama_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Llama with a GPT-2-style byte-level BPE tokenizer (what llama.cpp's 'gpt2' model reads) and a
    ChatML chat template, as SmolLM2 has."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AutoConfig, PreTrainedTokenizerFast

    from tests.tiny_models import _COMMON

    folder = tmp_path_factory.mktemp("bpe-llama")
    for name in ("config.json", "model.safetensors", "generation_config.json"):
        if (tiny_llama_dir / name).is_file():
            shutil.copy(tiny_llama_dir / name, folder / name)
    vocab_size = AutoConfig.from_pretrained(str(folder)).vocab_size
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - 3, special_tokens=["<|endoftext|>", "<|im_start|>",
                                                                           "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([_COMMON] * 3, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", bos_token="<|im_start|>",
                                   pad_token="<|endoftext|>")
    fast.chat_template = CHATML
    assert len(fast) <= vocab_size
    fast.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def llama_run(bpe_llama_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from adalora_studio.core.training import Engine

    folder = tmp_path_factory.mktemp("gguf-run")
    cfg = RunConfig(
        name="gguf-test", task="causal-lm", model=ModelConfig(source="folder", path=str(bpe_llama_dir)),
        data=DataConfig(train_file=str(small_instructions_jsonl(folder)), eval_fraction=0.2, max_length=48),
        budget=BudgetConfig(target_modules=("q_proj", "k_proj", "v_proj", "up_proj"), init_r=4, target_r=2,
                            tinit=0.125, tfinal=0.25, delta_t=2),
        training=TrainingConfig(max_steps=12, batch_size=4, learning_rate=2e-2, eval_every=0, checkpoint_every=0,
                                device="cpu", seed=3),
        output_dir=str(folder / "runs"))
    events = list(Engine(cfg).events())
    assert type(events[-1]).__name__ == "Finished", events[-1]
    return Path(events[-1].run_dir)


def _logits(model, ids):  # noqa: ANN001, ANN202
    import torch

    with torch.no_grad():
        return model(input_ids=ids).logits


@pytest.mark.parametrize(("gguf_type", "tolerance"), [("f16", F16_TOLERANCE), ("q8_0", Q8_TOLERANCE)])
def test_gguf_round_trip_matches_the_merged_model(llama_run: Path, bpe_llama_dir: Path, tmp_path: Path,
                                                  gguf_type: str, tolerance: float) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from adalora_studio.core.export import export_merged

    out = tmp_path / f"model-{gguf_type}.gguf"
    assert main(["export", str(llama_run), "--gguf", str(out), "--gguf-type", gguf_type]) == EXIT_OK
    merged = AutoModelForCausalLM.from_pretrained(str(export_merged(llama_run, tmp_path / "merged"))).eval()
    loaded = AutoModelForCausalLM.from_pretrained(str(tmp_path), gguf_file=out.name, dtype=torch.float32).eval()
    ids = torch.randint(3, merged.config.vocab_size, (2, 17), generator=torch.Generator().manual_seed(0))
    want, got = _logits(merged, ids), _logits(loaded, ids)
    diff = float((want - got).abs().max())
    assert diff < tolerance, f"{gguf_type}: max |logit difference| {diff:.3g}"
    print(f"{gguf_type}: max |logit difference| GGUF vs merged = {diff:.3g}")
    # The adapter is in there: the base model alone is further from the merged model than the GGUF is.
    base = AutoModelForCausalLM.from_pretrained(str(bpe_llama_dir)).eval()
    assert float((_logits(base, ids) - want).abs().max()) > 2 * diff
    from transformers import AutoTokenizer

    text = "please reset my account password, the app shows an error"
    original = AutoTokenizer.from_pretrained(str(bpe_llama_dir))
    from_gguf = AutoTokenizer.from_pretrained(str(tmp_path), gguf_file=out.name)
    assert from_gguf(text).input_ids[-len(original(text).input_ids):] == original(text).input_ids
    modelfile = out.with_suffix(".Modelfile").read_text(encoding="utf-8")
    assert modelfile.startswith(f"FROM ./{out.name}") and "<|im_start|>" in modelfile and "PARAMETER stop" in modelfile

    from gguf import GGUFReader

    fields = GGUFReader(str(out)).fields
    template = bytes(fields["tokenizer.chat_template"].parts[-1]).decode("utf-8")
    assert template == CHATML


def test_non_llama_models_are_refused(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    from adalora_studio.core.export import merged_to_gguf

    with pytest.raises(ModelError, match="Llama-family"):
        merged_to_gguf(tiny_gpt2_dir, tmp_path / "x.gguf")


def test_a_run_on_a_gguf_base_exports_merged(llama_run: Path, tmp_path: Path) -> None:
    """A run whose base was loaded from a GGUF file (as the bundled SmolLM2 is) merges and saves: transformers keeps
    its GGUF quantizer on the dequantised model and refused ``save_pretrained`` before the export dropped it."""
    import torch
    from transformers import AutoModelForCausalLM

    from adalora_studio.core.export import export_merged
    from adalora_studio.core.training import Engine

    base_gguf = tmp_path / "base.gguf"
    assert main(["export", str(llama_run), "--gguf", str(base_gguf), "--gguf-type", "f16"]) == EXIT_OK
    cfg = RunConfig(
        name="on-gguf", task="causal-lm", model=ModelConfig(source="gguf", path=str(base_gguf)),
        data=DataConfig(train_file=str(small_instructions_jsonl(tmp_path)), eval_fraction=0.2, max_length=48),
        budget=BudgetConfig(target_modules=("q_proj", "v_proj"), init_r=4, target_r=2, tinit=0.125, tfinal=0.25,
                            delta_t=2),
        training=TrainingConfig(max_steps=4, batch_size=4, learning_rate=2e-2, eval_every=0, checkpoint_every=0,
                                device="cpu", seed=5),
        output_dir=str(tmp_path / "runs"))
    events = list(Engine(cfg).events())
    assert type(events[-1]).__name__ == "Finished", events[-1]
    out = export_merged(Path(events[-1].run_dir), tmp_path / "merged")
    merged = AutoModelForCausalLM.from_pretrained(str(out)).eval()
    assert getattr(merged, "hf_quantizer", None) is None
    assert "quantization_config" not in (out / "config.json").read_text(encoding="utf-8")
    base = AutoModelForCausalLM.from_pretrained(str(tmp_path), gguf_file=base_gguf.name, dtype=torch.float32).eval()
    ids = torch.randint(3, merged.config.vocab_size, (1, 9), generator=torch.Generator().manual_seed(1))
    assert float((_logits(base, ids) - _logits(merged, ids)).abs().max()) > 0  # the adapter is merged in
