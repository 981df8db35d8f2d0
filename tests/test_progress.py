"""The headless progress display: loss, steps/s and ETA on the bar; resume hints that name the real run folder."""

from __future__ import annotations

import io

from adalora_studio.app.progress import ProgressPrinter, format_duration
from adalora_studio.core.events import Failed, RunStarted, StepLogged, Stopped

RUN_DIR = "/runs/tickets-20260101-120000"


def started(total: int = 100) -> RunStarted:
    return RunStarted(run_dir=RUN_DIR, config={}, total_steps=total, steps_per_epoch=10, device="cpu",
                      precision="fp32", model_params=1000, trainable_init=40, trainable_target=20, n_matrices=4,
                      init_r=4, target_r=2, tinit_steps=10, tfinal_steps=20, delta_t=2, n_train=80, n_eval=20)


def step(n: int, elapsed: float, eta: float) -> StepLogged:
    return StepLogged(step=n, epoch=n / 10, task_loss=1.2345, orth_loss=0.1, lr=1e-3, grad_norm=0.5,
                      samples_per_s=64.0, elapsed_s=elapsed, eta_s=eta)


def test_bar_shows_loss_steps_per_second_and_eta() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(stream=out, interval_s=0.0)
    printer.handle(started())
    printer.handle(step(10, 5.0, 45.0))    # 2 steps/s since the start
    printer.handle(step(20, 15.0, 60.0))   # 1 step/s since the previous line
    lines = out.getvalue().splitlines()
    assert "10/100 loss 1.2345 2.00 steps/s (64.0 samples/s) ETA 0:45" in lines[-2]
    assert "20/100 loss 1.2345 1.00 steps/s" in lines[-1] and "ETA 1:00" in lines[-1]


def test_quiet_prints_no_bar() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(stream=out, quiet=True, interval_s=0.0)
    printer.handle(started())
    printer.handle(step(10, 5.0, 45.0))
    assert "steps/s" not in out.getvalue()


def test_stop_and_failure_name_the_run_folder_to_resume() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(stream=out)
    printer.handle(started())
    printer.handle(Stopped(step=7, checkpoint=f"{RUN_DIR}/checkpoints/step-00000007"))
    assert f"adalora-studio train --resume {RUN_DIR}\n" in out.getvalue()

    out = io.StringIO()
    printer = ProgressPrinter(stream=out)  # a failure before RunStarted: the folder comes from the checkpoint
    printer.handle(Failed(step=7, message="data moved", checkpoint=f"{RUN_DIR}/checkpoints/step-00000007"))
    text = out.getvalue()
    assert "FAILED at step 7: data moved" in text and f"adalora-studio train --resume {RUN_DIR}\n" in text

    out = io.StringIO()
    ProgressPrinter(stream=out).handle(Failed(step=0, message="bad config"))
    assert "--resume" not in out.getvalue()


def test_format_duration() -> None:
    assert format_duration(3723) == "1:02:03" and format_duration(59.6) == "1:00"
    assert format_duration(float("nan")) == "?" and format_duration(float("inf")) == "?"
