"""The task-loss tap: the loss before peft adds AdaLoRA's orthogonality term, without a second forward."""

from __future__ import annotations

from typing import Any

from .ranks import adalora_model


class TaskLossTap:
    """Reads the task loss the transformers model returns, before peft adds its orthogonality term to it.

    ``AdaLoraModel.forward`` calls ``self.model.forward(...)`` and then adds ``orth_reg_weight * regulariser`` to
    ``outputs.loss`` in place. The tap wraps that inner ``forward`` on this model instance and keeps a detached
    copy of the loss (a scalar copy on the device, no sync), so the task loss is logged exactly and the
    regulariser term is ``total - task`` - no second forward and no recomputation. :meth:`remove` undoes it.
    """

    def __init__(self, peft_model: Any) -> None:
        self._inner = adalora_model(peft_model).model
        self._original = self._inner.forward
        self._own_forward = "forward" in vars(self._inner)  # e.g. accelerate's device-map hooks set one
        self.last: Any = None

        def forward(*args: Any, **kwargs: Any) -> Any:
            out = self._original(*args, **kwargs)
            loss = getattr(out, "loss", None)
            self.last = loss.detach().clone() if loss is not None else None
            return out

        self._inner.forward = forward

    def remove(self) -> None:
        """Restore the model's ``forward`` as it was."""
        if self._own_forward:
            self._inner.forward = self._original
        elif "forward" in vars(self._inner):
            del self._inner.forward
