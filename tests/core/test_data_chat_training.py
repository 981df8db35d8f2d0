"""A ShareGPT conversation file, gzip-compressed, trains a tiny causal LM and resumes exactly."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

from adalora_studio.core.config import BudgetConfig, DataConfig
from adalora_studio.core.data import inspect_dataset
from adalora_studio.core.events import Finished, StepLogged, Stopped, StopToken
from adalora_studio.core.training import Engine
from tests.core.engine_fixtures import bert_config, torch_single_thread  # noqa: F401  (autouse fixture)


def sharegpt_gz(folder: Path, n: int = 24) -> Path:
    path = folder / "chats.jsonl.gz"
    rows = [{"conversations": [{"from": "system", "value": "be kind"}, {"from": "human", "value": f"question {i}"},
                               {"from": "gpt", "value": "good answer"}, {"from": "human", "value": "thanks"},
                               {"from": "gpt", "value": "you are awesome"}]} for i in range(n)]
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    return path


def test_compressed_sharegpt_trains_and_resumes_exactly(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    import torch

    base = bert_config(tiny_gpt2_dir, tmp_path, tmp_path / "runs", max_steps=6, batch_size=4)
    cfg = replace(base, task="causal-lm",
                  data=DataConfig(train_file=str(sharegpt_gz(tmp_path)), eval_fraction=0.2, max_length=32),
                  budget=BudgetConfig(target_modules=("c_attn",), init_r=4, target_r=2, tinit=0.1, tfinal=0.3,
                                      delta_t=2))
    full = Engine(cfg)
    assert isinstance(list(full.events())[-1], Finished)
    assert inspect_dataset(cfg).chat_format == "sharegpt"
    stop = StopToken()
    first = Engine(cfg, stop)
    for event in first.events():
        if isinstance(event, StepLogged) and event.step == 3:
            stop.request_stop()
    assert isinstance(event, Stopped)
    resumed = Engine(None, resume_from=Path(event.checkpoint).parents[1])
    assert isinstance(list(resumed.events())[-1], Finished)
    a = {n: p for n, p in full.session.peft_model.named_parameters() if p.requires_grad}
    b = {n: p for n, p in resumed.session.peft_model.named_parameters() if p.requires_grad}
    assert a.keys() == b.keys() and all(torch.equal(a[n], b[n]) for n in a)
