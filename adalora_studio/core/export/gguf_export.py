"""Export a Llama-family causal LM (base + adapter merged) as GGUF for llama.cpp and Ollama, with a Modelfile.

The file is written by the maintained ``gguf`` package (``GGUFWriter``, ``gguf.quants`` for q8_0,
``TensorNameMap`` for llama.cpp's tensor names, ``gguf.vocab`` for the tokenizer and its chat template): the
studio only chooses the metadata and, as llama.cpp's own ``convert_hf_to_gguf.py`` does, permutes the rows of
``q_proj``/``k_proj`` into llama.cpp's rotary layout (transformers undoes it when it loads GGUF). 1-D tensors
(norms) stay float32, as llama.cpp keeps them; ``q8_0`` quantises every 2-D weight whose rows split into blocks
of 32, the others stay f16.

An Ollama ``<stem>.Modelfile`` is written beside the GGUF: ``FROM`` the file, the chat template in Ollama's Go
template syntax for the families the studio recognises (ChatML, as SmolLM2 uses, and Llama 3), with their stop
tokens. The tokenizer's Jinja template is also stored inside the GGUF (``tokenizer.chat_template``), which
llama.cpp uses directly.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..errors import ModelError

GGUF_TYPES = ("f16", "q8_0")
LLAMA_FAMILY = ("llama",)
"""``config.model_type`` values written with llama.cpp's ``llama`` architecture."""

CHATML_TEMPLATE = """{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
"""
LLAMA3_TEMPLATE = """{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>

{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>

"""


def export_gguf(source: Any, out_file: str | Path, gguf_type: str = "f16") -> tuple[Path, Path]:
    """Merge a finished run's adapter into its base model and write ``out_file`` (GGUF) plus ``<stem>.Modelfile``.

    The merge happens in memory (``merge_and_unload``): a base that itself came from a GGUF file (the bundled
    SmolLM2) cannot go through ``save_pretrained`` in transformers, and does not need to.
    """
    from ..adalora import load_adapter_model
    from .exports import _finished_run

    run = _finished_run(source)
    cfg = run.read_config()
    if cfg.task != "causal-lm":
        raise ModelError(f"run '{run.name}' is a {cfg.task} run; GGUF export is for causal LMs")
    model, tokenizer = load_adapter_model(run.adapter_dir, cfg.model, cfg.task, None)
    merged = model.merge_and_unload(safe_merge=True).eval()
    with tempfile.TemporaryDirectory(prefix="adalora-gguf-") as tmp:
        tokenizer.save_pretrained(tmp)
        return model_to_gguf(merged, Path(tmp), out_file, gguf_type, name=run.name)


def merged_to_gguf(model_dir: str | Path, out_file: str | Path, gguf_type: str = "f16") -> tuple[Path, Path]:
    """Write a saved (merged) Llama-family causal LM folder as GGUF and an Ollama Modelfile; returns both paths."""
    from transformers import AutoConfig, AutoModelForCausalLM

    model_dir = Path(model_dir)
    config = AutoConfig.from_pretrained(str(model_dir))
    _check_family(config, str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype="float32")
    return model_to_gguf(model, model_dir, out_file, gguf_type, name=model_dir.name)


def _check_family(config: Any, where: str) -> None:
    if config.model_type not in LLAMA_FAMILY:
        raise ModelError(f"{where}: a {config.model_type} model; GGUF export supports Llama-family causal LMs "
                         f"(model_type {', '.join(LLAMA_FAMILY)})")


def model_to_gguf(model: Any, tokenizer_dir: Path, out_file: str | Path, gguf_type: str = "f16",
                  name: str = "adalora-studio") -> tuple[Path, Path]:
    """Write a transformers Llama-family causal LM (in memory) as GGUF, the tokenizer read from
    ``tokenizer_dir``; plus the Ollama Modelfile. Written to a partial file first, then moved into place."""
    import gguf

    if gguf_type not in GGUF_TYPES:
        raise ModelError(f"GGUF type {gguf_type!r} is not one of: {', '.join(GGUF_TYPES)}")
    config = model.config
    _check_family(config, name)
    out_file = Path(out_file).expanduser()
    out_file.parent.mkdir(parents=True, exist_ok=True)
    partial = out_file.with_name(f".{out_file.name}.partial")
    writer = gguf.GGUFWriter(str(partial), "llama")
    try:
        _write_metadata(writer, config, name, gguf_type)
        template = _write_tokenizer(writer, Path(tokenizer_dir), config, name)
        _write_tensors(writer, model, config, gguf_type)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        partial.replace(out_file)
    finally:
        partial.unlink(missing_ok=True)
    modelfile = out_file.with_suffix(".Modelfile")
    atomic_write_text(modelfile, ollama_modelfile(out_file.name, template))
    return out_file, modelfile


def _write_metadata(writer: Any, config: Any, name: str, gguf_type: str) -> None:
    import gguf

    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    writer.add_name(name)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_rope_dimension_count(head_dim)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(getattr(config, "num_key_value_heads", None) or config.num_attention_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    theta = getattr(config, "rope_theta", None) or (getattr(config, "rope_parameters", None) or {}).get(
        "rope_theta", 10000.0)
    writer.add_rope_freq_base(float(theta))
    writer.add_vocab_size(config.vocab_size)
    ftype = gguf.LlamaFileType.MOSTLY_F16 if gguf_type == "f16" else gguf.LlamaFileType.MOSTLY_Q8_0
    writer.add_file_type(ftype)


def _write_tokenizer(writer: Any, model_dir: Path, config: Any, name: str) -> str | None:
    """Tokens, merges, special ids and the chat template; returns the Jinja chat template (or None)."""
    import gguf
    from gguf.vocab import BpeVocab, LlamaHfVocab, SpecialVocab

    try:
        vocab: Any = BpeVocab(model_dir)
    except (FileNotFoundError, KeyError, ValueError):
        try:
            vocab = LlamaHfVocab(model_dir)
        except (FileNotFoundError, KeyError, ValueError, TypeError) as exc:
            raise ModelError(f"{model_dir}: the tokenizer is neither GPT-2-style BPE nor a Llama/SentencePiece one, "
                             "which llama.cpp needs") from exc
    tokens, scores, types = [], [], []
    for text, score, kind in vocab.all_tokens():
        tokens.append(text.encode("utf-8") if isinstance(text, str) else text)
        scores.append(score)
        types.append(kind)
    while len(tokens) < config.vocab_size:  # padded embedding rows: llama.cpp needs a token for every row
        tokens.append(f"[PAD{len(tokens)}]".encode())
        scores.append(-1000.0)
        types.append(gguf.TokenType.UNUSED)
    writer.add_tokenizer_model(vocab.tokenizer_model)
    if vocab.tokenizer_model == "gpt2":
        writer.add_tokenizer_pre(_pre_tokenizer(model_dir, name))
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    special = SpecialVocab(model_dir, load_merges=vocab.tokenizer_model == "gpt2", n_vocab=len(tokens))
    special.add_to_gguf(writer, quiet=True)
    template = special.chat_template
    return template if isinstance(template, str) else None


def _pre_tokenizer(model_dir: Path, name: str) -> str:
    """llama.cpp's pre-tokenizer name: recognised by model name for the bundled SmolLM2, else ``default``."""
    names = [model_dir.name, name]
    for file in ("config.json", "tokenizer_config.json"):
        if (model_dir / file).is_file():
            data = json.loads((model_dir / file).read_text(encoding="utf-8"))
            names.append(str(data.get("_name_or_path", "")) + str(data.get("name_or_path", "")))
    return "smollm" if any("smollm" in n.lower() for n in names) else "default"


def _permute(weights: Any, n_head: int, n_head_kv: int | None) -> Any:
    """llama.cpp's rotary row order for q/k (``convert_hf_to_gguf.py``'s ``LlamaModel.permute``)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def _write_tensors(writer: Any, model: Any, config: Any, gguf_type: str) -> None:
    import gguf
    import numpy as np

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    n_head = config.num_attention_heads
    n_kv = getattr(config, "num_key_value_heads", None) or n_head
    tied = bool(getattr(config, "tie_word_embeddings", False))
    for hf_name, tensor in model.state_dict().items():
        if hf_name.endswith("rotary_emb.inv_freq") or (tied and hf_name == "lm_head.weight"):
            continue
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise ModelError(f"no llama.cpp tensor name for {hf_name}; the model is not a plain Llama layout")
        data = tensor.detach().float().numpy()
        if hf_name.endswith("q_proj.weight"):
            data = _permute(data, n_head, n_head)
        elif hf_name.endswith("k_proj.weight"):
            data = _permute(data, n_head, n_kv)
        if data.ndim == 1:
            writer.add_tensor(name, np.ascontiguousarray(data, dtype=np.float32))
        elif gguf_type == "q8_0" and data.shape[-1] % 32 == 0:
            q = gguf.quants.quantize(np.ascontiguousarray(data), gguf.GGMLQuantizationType.Q8_0)
            writer.add_tensor(name, q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        else:
            writer.add_tensor(name, np.ascontiguousarray(data, dtype=np.float16))


def ollama_modelfile(gguf_name: str, chat_template: str | None) -> str:
    """An Ollama Modelfile for ``gguf_name`` (beside it) with the chat template in Ollama's syntax."""
    lines = [f"FROM ./{gguf_name}", ""]
    if chat_template and "<|im_start|>" in chat_template:
        lines += [f'TEMPLATE """{CHATML_TEMPLATE}"""', 'PARAMETER stop "<|im_end|>"', 'PARAMETER stop "<|im_start|>"']
    elif chat_template and "<|start_header_id|>" in chat_template:
        lines += [f'TEMPLATE """{LLAMA3_TEMPLATE}"""', 'PARAMETER stop "<|eot_id|>"']
    elif chat_template:
        lines += ["# The chat template is stored in the GGUF (tokenizer.chat_template); Ollama reads it from there",
                  "# when it recognises it. Write a TEMPLATE here if it does not."]
    else:
        lines += ["# The tokenizer has no chat template: plain completion."]
    return "\n".join(lines) + "\n"
