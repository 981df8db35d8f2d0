"""Everything that knows peft's AdaLoRA internals, and nothing else does (an import contract keeps it so).

- :mod:`.plan` - optimizer steps, resolved ranks and the cubic budget schedule, mirroring peft's ``budget_schedule``;
- :mod:`.build` - the ``AdaLoraConfig`` and the wrapped model; :mod:`.loss_tap` - the task loss before the
  orthogonality term;
- :mod:`.ranks` - the live allocation (``rank_pattern``), triplet scores, the mask applied for evaluation;
- :mod:`.allocator_state` - the allocator's EMA state for exact resume; :mod:`.saving` - the adapter folder;
- :mod:`.fast_allocator` - peft's allocator and orthogonality maths over batched tensor lists;
  :mod:`.fast_forward` - peft's ``SVDLinear`` forward with the scalar folded into ``lora_A * lora_E``;
- :mod:`.adapter_folder`, :mod:`.loading`, :mod:`.to_lora` - saved adapters: ranks, loading, conversion to LoRA.
- :mod:`.advice` - schedule advice (budgeting share, too few steps, too few mask steps) with one-click fixes;
- :mod:`.lora_build`, :mod:`.budget_match` - the LoRA baseline: its plan, model and the matched-budget rank rule.
"""

from __future__ import annotations

from ..config import RANK_RATIO  # the one init_r rule lives in core.config (suggested_init_r)
from .adapter_folder import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    AdapterMatrixRank,
    adapter_dir_of,
    format_rank_table,
    load_adapter_tensors,
    normalized_rank_pattern,
    read_adapter_config,
    read_adapter_ranks,
    tensor_shapes,
)
from .advice import (
    MIN_BUDGETING_SHARE,
    MIN_MASK_STEPS,
    MIN_STEPS,
    Advice,
    apply_fix,
    mask_steps,
    paper_recipe_fix,
    schedule_advice,
)
from .allocator_state import (
    ALLOCATOR_DICTS,
    allocator_tensors,
    live_rank_pattern,
    restore_allocation,
    set_total_step,
    split_allocator_tensors,
    update_and_allocate,
)
from .budget_match import (
    BudgetMatch,
    adalora_effective_params,
    adapter_effective_params,
    lora_params,
    lora_rank_step,
    matched_lora_rank,
)
from .build import adalora_config, build_peft_model, task_type
from .checkpoint_model import adapter_disabled, checkpoint_targets, load_checkpoint_model, unwrap_base
from .fast_allocator import (
    FastAllocator,
    batched_orth_regulariser,
    fast_allocator_of,
    install_fast_path,
    uninstall_fast_path,
)
from .fast_forward import fast_svd_forward, install_fast_forward, uninstall_fast_forward
from .folder_kind import (
    KIND_ADALORA,
    KIND_LORA,
    KIND_NOT_PEFT,
    KIND_OTHER_PEFT,
    FolderKind,
    adapter_snapshot,
    classify_folder,
)
from .loading import TASK_OF_PEFT_TASK_TYPE, load_adapter_model
from .lora_build import lora_config, lora_match, make_lora_plan, uniform_ranks
from .loss_tap import TaskLossTap
from .plan import (
    RunPlan,
    adapter_params,
    budget_at,
    budget_curve,
    is_mask_step,
    make_plan,
    optimizer_steps,
    resolve_ranks,
    scheduled_budget,
)
from .rank_finder import lora_config_from_adapter, lora_config_json
from .ranks import (
    ADAPTER_NAME,
    RANK_TABLE_COLUMNS,
    adalora_model,
    matrix_ranks,
    normalize_rank_key,
    rank_mask_applied,
    rank_table_rows,
    read_rank_pattern,
    snapshot_ranks,
    triplet_scores,
    write_rank_tables,
)
from .saving import save_adapter
from .spectra import MatrixSpectrum, mask_threshold, masked_by_threshold, read_spectra
from .to_lora import (
    ADALORA_EPS,
    adalora_to_lora,
    is_lora_config,
    lora_adapter_writer,
    lora_copy_writer,
    read_adalora_source,
)

__all__ = [
    "RANK_RATIO",
    "RunPlan",
    "adapter_params",
    "resolve_ranks",
    "optimizer_steps",
    "make_plan",
    "budget_at",
    "scheduled_budget",
    "is_mask_step",
    "budget_curve",
    "task_type",
    "adalora_config",
    "build_peft_model",
    "TaskLossTap",
    "ADAPTER_NAME",
    "RANK_TABLE_COLUMNS",
    "normalize_rank_key",
    "adalora_model",
    "read_rank_pattern",
    "triplet_scores",
    "matrix_ranks",
    "snapshot_ranks",
    "rank_mask_applied",
    "rank_table_rows",
    "write_rank_tables",
    "ALLOCATOR_DICTS",
    "live_rank_pattern",
    "allocator_tensors",
    "split_allocator_tensors",
    "restore_allocation",
    "set_total_step",
    "update_and_allocate",
    "FastAllocator",
    "install_fast_path",
    "uninstall_fast_path",
    "fast_allocator_of",
    "batched_orth_regulariser",
    "install_fast_forward",
    "uninstall_fast_forward",
    "fast_svd_forward",
    "save_adapter",
    "CONFIG_NAME",
    "WEIGHTS_NAME",
    "AdapterMatrixRank",
    "adapter_dir_of",
    "read_adapter_config",
    "tensor_shapes",
    "load_adapter_tensors",
    "normalized_rank_pattern",
    "read_adapter_ranks",
    "format_rank_table",
    "TASK_OF_PEFT_TASK_TYPE",
    "load_adapter_model",
    "ADALORA_EPS",
    "adalora_to_lora",
    "read_adalora_source",
    "lora_adapter_writer",
    "checkpoint_targets",
    "load_checkpoint_model",
    "adapter_disabled",
    "unwrap_base",
    "MatrixSpectrum",
    "read_spectra",
    "mask_threshold",
    "masked_by_threshold",
    "lora_config_from_adapter",
    "lora_config_json",
    "KIND_ADALORA",
    "KIND_LORA",
    "KIND_OTHER_PEFT",
    "KIND_NOT_PEFT",
    "FolderKind",
    "classify_folder",
    "adapter_snapshot",
    "BudgetMatch",
    "adalora_effective_params",
    "adapter_effective_params",
    "lora_params",
    "lora_rank_step",
    "matched_lora_rank",
    "lora_config",
    "lora_match",
    "make_lora_plan",
    "uniform_ranks",
    "is_lora_config",
    "lora_copy_writer",
    "MIN_BUDGETING_SHARE",
    "MIN_MASK_STEPS",
    "MIN_STEPS",
    "Advice",
    "apply_fix",
    "mask_steps",
    "paper_recipe_fix",
    "schedule_advice",
]
