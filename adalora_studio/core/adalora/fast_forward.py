"""peft's AdaLoRA ``SVDLinear`` forward with the same maths and fewer passes over the activations.

peft 0.21 adds ``(dropout(x) @ (A * E).T @ B.T) * scaling / (ranknum + 1e-5)`` to the base layer's output: two
matmuls, then two elementwise passes over the ``tokens x out_features`` product (the scale and the division),
then the in-place add: a third pass, and the backward walks the scale and the division again. Folding the
scalar into the small ``r x in_features`` matrix first,

    Q' = A * (E * (scaling / (ranknum + 1e-5)))        (r x in: a few thousand numbers)
    result += (dropout(x) @ Q'.T) @ B.T                 (one ``addmm_`` into the base output where it can)

leaves the two matmuls LoRA does and nothing else on the activations. It is the same product; only the
rounding differs (a reassociation of one scalar factor: a few float32 ulps, ~1e-7 relative).

Dropout is peft's own module, called once per adapter per forward as peft does (the same random draws). A
disabled or merged layer, and every layer type other than plain ``SVDLinear`` (bnb, GPTQ), keep peft's forward.
:func:`install_fast_forward` sets the forward on each layer instance (a deep copy re-binds it to the copy);
:func:`uninstall_fast_forward` removes it.
"""

from __future__ import annotations

import types
from typing import Any

ATTR = "_studio_fast_forward"
"""Marks a layer whose forward :func:`install_fast_forward` replaced."""

RANKNUM_EPS = 1e-5
"""peft's ``ranknum + 1e-5`` in ``SVDLinear.forward``."""


def install_fast_forward(peft_model: Any) -> int:
    """Give every plain ``SVDLinear`` layer of the model the fused forward; the number of layers changed."""
    from peft.tuners.adalora.layer import SVDLinear

    count = 0
    for module in peft_model.modules():
        if type(module) is SVDLinear:  # subclasses (quantised bases) have their own forward
            module.forward = types.MethodType(fast_svd_forward, module)  # type: ignore[method-assign]
            setattr(module, ATTR, True)
            count += 1
    return count


def uninstall_fast_forward(peft_model: Any) -> None:
    """Back to peft's ``SVDLinear.forward`` on every layer."""
    for module in peft_model.modules():
        if vars(module).pop(ATTR, False):
            vars(module).pop("forward", None)


def fast_svd_forward(self: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
    """``SVDLinear.forward`` with the scalar folded into ``lora_A * lora_E`` (see the module docstring)."""
    import torch
    import torch.nn.functional as F
    from peft.tuners.adalora.layer import SVDLinear

    if self.disable_adapters or self.merged:
        return SVDLinear.forward(self, x, *args, **kwargs)
    result = self.base_layer(x, *args, **kwargs)
    for active_adapter in self.active_adapters:
        if active_adapter not in self.lora_A:
            continue
        lora_a, lora_b = self.lora_A[active_adapter], self.lora_B[active_adapter]
        scale = self.scaling[active_adapter] / (self.ranknum[active_adapter] + RANKNUM_EPS)
        q_scaled = lora_a * (self.lora_E[active_adapter] * scale)
        x = self._cast_input_dtype(x, lora_a.dtype)
        low = F.linear(self.lora_dropout[active_adapter](x), q_scaled)  # tokens x r
        if (result.dtype == low.dtype == lora_b.dtype and result.is_contiguous()
                and not torch.is_autocast_enabled(result.device.type)):
            result.view(-1, result.shape[-1]).addmm_(low.view(-1, low.shape[-1]), lora_b.T)
        else:  # mixed dtypes or autocast: peft's in-place add, which casts
            result += F.linear(low, lora_b)
    return result
