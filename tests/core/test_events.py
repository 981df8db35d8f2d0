"""Events serialise to JSON lines and back unchanged; a torn last line is skipped."""

from __future__ import annotations

from adalora_studio.core.events import (
    EvalLogged,
    Failed,
    Finished,
    MatrixRank,
    RanksUpdated,
    RunStarted,
    StepLogged,
    StopToken,
    event_from_json,
    event_to_json,
    read_events,
)


def _samples() -> list:
    matrix = MatrixRank("L0.query", "bert.encoder.layer.0.attention.self.query", 0, "query", 3, 4,
                        (0.5, 0.25, 0.0, 1e-9), (True, True, False, True))
    return [
        RunStarted(run_dir="/r", config={"name": "x"}, total_steps=10, steps_per_epoch=5, device="cpu",
                   precision="fp32", model_params=100, trainable_init=10, trainable_target=5, n_matrices=1,
                   init_r=4, target_r=2, tinit_steps=1, tfinal_steps=2, delta_t=1, n_train=8, n_eval=2,
                   label_names=("a", "b"), time=1.5),
        StepLogged(step=1, epoch=0.2, task_loss=0.7, orth_loss=0.01, lr=1e-3, grad_norm=2.0, samples_per_s=3.0,
                   elapsed_s=1.0, eta_s=9.0),
        EvalLogged(step=5, eval_loss=0.6, metrics={"accuracy": 0.5, "macro_f1": 0.4}),
        RanksUpdated(step=3, budget=3, phase="budgeting", total_rank=3, matrices=(matrix,)),
        Failed(step=4, message="Loss became NaN at step 4", detail="trace"),
        Finished(step=10, run_dir="/r", adapter_dir="/r/adapter", metrics={"accuracy": 0.75},
                 peak_memory_mb=812.5, peak_cuda_mb=1204.25),
    ]


def test_every_event_round_trips() -> None:
    for event in _samples():
        assert event_from_json(event_to_json(event)) == event


def test_read_events_skips_a_torn_line() -> None:
    lines = [event_to_json(e) for e in _samples()]
    lines[-1] = lines[-1][: len(lines[-1]) // 2]
    assert list(read_events(lines)) == _samples()[:-1]


def test_stop_token() -> None:
    token = StopToken()
    assert not token.stop_requested
    token.request_stop()
    assert token.stop_requested


def test_explorer_fields_round_trip_and_old_logs_still_read() -> None:
    matrix = MatrixRank("L0.value", "bert.encoder.layer.0.attention.self.value", 0, "value", 1, 2, (0.3, 0.1),
                        (True, False), singular_values=(0.25, -0.5), orth_residual=0.125)
    snap = RanksUpdated(step=4, budget=1, phase="budgeting", total_rank=1, matrices=(matrix,), threshold=0.1,
                        mask_step=True)
    assert event_from_json(event_to_json(snap)) == snap
    old = ('{"event":"ranks","step":3,"budget":3,"phase":"budgeting","total_rank":3,"time":0.0,"matrices":[{"name":'
           '"L0.query","module":"m","layer":0,"matrix_type":"query","rank":3,"init_rank":4,"importance":[0.5,0.2,0,1],'
           '"kept":[true,true,false,true]}]}')
    parsed = event_from_json(old)
    assert isinstance(parsed, RanksUpdated) and parsed.threshold is None and not parsed.mask_step
    assert parsed.matrices[0].singular_values == () and parsed.matrices[0].orth_residual is None


def test_finished_without_peak_memory_still_reads() -> None:
    old = '{"event":"finished","step":8,"run_dir":"/r","adapter_dir":"/r/adapter","metrics":{"accuracy":0.5}}'
    parsed = event_from_json(old)
    assert isinstance(parsed, Finished) and parsed.peak_memory_mb is None and parsed.peak_cuda_mb is None
