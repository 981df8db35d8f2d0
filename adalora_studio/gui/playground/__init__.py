"""The playground: try a trained run - classify texts with class probabilities, or stream generations, base vs
tuned - with all model work in the one torch worker thread (:mod:`.jobs`)."""

from __future__ import annotations

from .jobs import PlaygroundJobs
from .page import PlaygroundPage

__all__ = ["PlaygroundJobs", "PlaygroundPage"]
