"""The explorer payload of mask-step snapshots: threshold and masked set agree with peft's own mask, replay equals
live, and the final Λ equals the saved adapter's."""

from __future__ import annotations

from pathlib import Path

import pytest

from adalora_studio.core.adalora import (
    mask_threshold,
    masked_by_threshold,
    read_rank_pattern,
    read_spectra,
    triplet_scores,
)
from adalora_studio.core.events import RanksUpdated, event_from_json, event_to_json
from adalora_studio.core.runs import read_run_events
from adalora_studio.core.training import Engine
from adalora_studio.gui.dashboard.explorer_state import matrix_history, overview
from tests.core.engine_fixtures import (
    bert_config,
    hand_built_adalora,
    random_batch,
    small_classification_csv,
    torch_single_thread,  # noqa: F401  (autouse fixture)
)


@pytest.fixture(scope="module")
def finished_run(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list, Path]:
    folder = tmp_path_factory.mktemp("explorer")
    cfg = bert_config(tiny_bert_dir, small_classification_csv(folder), folder / "runs")
    events = list(Engine(cfg).events())
    run_dir = Path(events[-1].run_dir)
    return events, run_dir


def test_threshold_and_masked_set_match_peft_rank_pattern_in_the_engine(finished_run) -> None:
    events, _ = finished_run
    masks = [e for e in events if isinstance(e, RanksUpdated) and e.mask_step]
    assert len(masks) >= 3
    for snap in masks:
        assert snap.threshold is not None
        for m in snap.matrices:
            pruned = tuple(i for i, k in enumerate(m.kept) if not k)
            assert masked_by_threshold(m.importance, snap.threshold) == pruned, (snap.step, m.name)
            assert len(m.singular_values) == m.init_rank and m.orth_residual is not None and m.orth_residual >= 0
            # kept triplets keep their Λ through the mask; the masked ones show what the allocator judged
        assert sum(not k for m in snap.matrices for k in m.kept) >= snap.matrices[0].init_rank * len(
            snap.matrices) - snap.budget


def test_threshold_matches_a_hand_written_peft_loop(tiny_bert_dir: Path) -> None:
    import torch

    model = hand_built_adalora(tiny_bert_dir, total_step=12, tinit=2, tfinal=3, delta_t=1)
    ra = model.base_model.rankallocator
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    checked = 0
    for i in range(9):
        model(**random_batch(model, seed=i)).loss.backward()
        opt.step()
        model.base_model.update_and_allocate(i)
        budget, mask = ra.budget_schedule(i)
        if mask and i < 9:
            scores = triplet_scores(model)
            threshold = mask_threshold(scores, ra.init_bgt, budget)
            pattern = read_rank_pattern(model)
            for module, flags in pattern.items():
                assert masked_by_threshold(scores[module], threshold) == tuple(
                    j for j, k in enumerate(flags) if not k)
            checked += 1
        opt.zero_grad()
    assert checked >= 5


def test_replayed_explorer_state_equals_live(finished_run) -> None:
    events, run_dir = finished_run
    live = [e for e in events if isinstance(e, RanksUpdated)]
    replayed = [e for e in read_run_events(run_dir) if isinstance(e, RanksUpdated)]
    assert replayed == live
    for m in live[-1].matrices:
        assert matrix_history(replayed, m.module) == matrix_history(live, m.module)
    assert overview(replayed, 2) == overview(live, 2)
    for e in live:
        assert event_from_json(event_to_json(e)) == e


def test_final_spectra_equal_the_saved_adapter(finished_run) -> None:
    from safetensors.torch import load_file

    events, run_dir = finished_run
    final = [e for e in events if isinstance(e, RanksUpdated)][-1]
    tensors = load_file(str(run_dir / "adapter" / "adapter_model.safetensors"))
    checked = 0
    for m in final.matrices:
        live = [v for v, k in zip(m.singular_values, m.kept, strict=True) if k]
        saved = [t for key, t in tensors.items() if key.startswith(f"base_model.model.{m.module}.lora_E")]
        assert len(saved) == 1
        assert saved[0].reshape(-1).tolist() == live  # exact: the same float32 values
        checked += 1
    assert checked == len(final.matrices)


def test_read_spectra_residual_is_zero_for_orthonormal_factors(tiny_bert_dir: Path) -> None:
    import torch

    model = hand_built_adalora(tiny_bert_dir)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".lora_A." in name:
                p.copy_(torch.linalg.qr(torch.randn(p.shape[1], p.shape[0]))[0].t())
            elif ".lora_B." in name:
                p.copy_(torch.linalg.qr(torch.randn(p.shape[0], p.shape[1]))[0])
    spectra = read_spectra(model)
    assert spectra and all(s.orth_residual < 1e-5 for s in spectra.values())
    assert all(len(s.singular_values) == 4 for s in spectra.values())
