"""Exports of a trained run: plain LoRA, the merged model, rank tables, and Qt-free SVG plots.
"""

from __future__ import annotations

from .exports import (
    EXPORT_KINDS,
    default_export_dir,
    export_as_lora,
    export_merged,
    export_rank_csv,
    export_run_as_lora,
    export_run_merged,
    inspect_adapter,
    rank_table_csv,
)
from .gguf_export import GGUF_TYPES, export_gguf, merged_to_gguf, ollama_modelfile
from .launch import LaunchFiles, write_launch_files
from .lora import write_lora_adapter
from .model_card import model_card_text, write_model_card
from .plots_svg import ema, write_run_plots
from .publish import publish_dir
from .rank_config import axolotl_snippet, export_lora_config
from .sweep_svg import SweepPoint, sweep_svg

__all__ = [
    "EXPORT_KINDS",
    "export_as_lora",
    "default_export_dir",
    "export_merged",
    "inspect_adapter",
    "export_run_as_lora",
    "export_run_merged",
    "rank_table_csv",
    "export_rank_csv",
    "write_lora_adapter",
    "publish_dir",
    "write_run_plots",
    "export_lora_config",
    "axolotl_snippet",
    "GGUF_TYPES",
    "export_gguf",
    "merged_to_gguf",
    "ollama_modelfile",
    "LaunchFiles",
    "write_launch_files",
    "ema",
    "SweepPoint",
    "sweep_svg",
    "model_card_text",
    "write_model_card",
]
