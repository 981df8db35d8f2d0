"""The GUI-thread garbage collector: only the GUI thread collects, routine ticks only look at young objects, the
long-lived heap (imported libraries, a loaded model) is frozen, and frozen garbage is reclaimed when quiet."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from adalora_studio.gui.gc_guard import BULK_OBJECTS, OLDER_EVERY, YOUNG_THRESHOLD, GuiThreadCollector


class Node:
    """A weak-referenceable object that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def collector() -> Iterator[GuiThreadCollector]:
    gc.collect()
    unseen = {"now": True}
    c = GuiThreadCollector(interval_s=0.05, quiet_s=0.1, start_timer=False, unseen=lambda: unseen["now"])
    c.window = unseen  # type: ignore[attr-defined]
    seen: list[int] = []
    c.generations = seen  # type: ignore[attr-defined]

    def record(stage: str, info: dict) -> None:
        if stage == "start":
            seen.append(info["generation"])

    gc.callbacks.append(record)
    yield c
    gc.callbacks.remove(record)
    c.stop()
    gc.collect()


def busy_tick(c: GuiThreadCollector) -> str:
    """A tick after more allocations than the young threshold (kept alive until after the tick)."""
    keep = [[] for _ in range(2 * YOUNG_THRESHOLD)]  # (some come from the free list, uncounted)
    done = c.tick()
    del keep
    return done


def test_automatic_collection_is_off_and_a_tick_frees_young_cycles(collector: GuiThreadCollector) -> None:
    assert not gc.isenabled()
    node = Node()
    ref = weakref.ref(node)
    del node
    assert ref() is not None  # a cycle: reference counting alone cannot free it
    assert busy_tick(collector) == "young"
    assert ref() is None
    assert collector.generations == [0]  # type: ignore[attr-defined]


def test_ticks_never_collect_the_old_generation_and_freeze_survivors(collector: GuiThreadCollector) -> None:
    kept = [Node() for _ in range(10)]
    frozen_before = gc.get_freeze_count()
    done = [busy_tick(collector) for _ in range(5 * OLDER_EVERY)]
    assert done.count("young+freeze") == 5 and "reclaim" not in done
    assert set(collector.generations) == {0, 1}  # type: ignore[attr-defined]
    assert gc.get_freeze_count() > frozen_before
    unfrozen = {id(o) for o in gc.get_objects()}
    assert not any(id(k) in unfrozen for k in kept)  # long-lived objects left the collector's sight


def test_a_bulk_allocation_is_frozen_at_the_first_tick(collector: GuiThreadCollector) -> None:
    assert busy_tick(collector) == "young"  # an ordinary tick: the young generation alone
    bulk = [Node() for _ in range(2 * BULK_OBJECTS)]  # what a model load keeps
    assert collector.tick() == "young+freeze"  # not three more young collections over the same objects first
    unfrozen = {id(o) for o in gc.get_objects()}
    assert not any(id(o) in unfrozen for o in bulk[:: BULK_OBJECTS // 10])
    assert collector.generations == [0, 1]  # type: ignore[attr-defined]


class Work:
    busy = True


def test_frozen_garbage_is_reclaimed_once_quiet_not_while_busy(collector: GuiThreadCollector) -> None:
    work = Work()
    collector.watch(work, lambda w: w.busy)
    node = Node()
    ref = weakref.ref(node)
    while "young+freeze" not in (busy_tick(collector), busy_tick(collector)):
        pass
    del node  # garbage now, but frozen: no young collection can see it
    while_busy = [busy_tick(collector) for _ in range(3 * OLDER_EVERY)]
    while_busy += [collector.tick() for _ in range(3 * collector.quiet_ticks_needed)]
    assert "reclaim" not in while_busy and ref() is not None
    work.busy = False
    quiet = [collector.tick() for _ in range(collector.quiet_ticks_needed)]
    assert quiet == [""] * (collector.quiet_ticks_needed - 1) + ["reclaim"] and collector.reclaims == 1
    assert ref() is None
    assert 2 in collector.generations  # type: ignore[attr-defined]
    assert [collector.tick() for _ in range(5)] == [""] * 5  # one full collection per quiet period


def test_the_full_collection_waits_while_the_window_is_in_front(collector: GuiThreadCollector) -> None:
    collector.window["now"] = False  # type: ignore[attr-defined]  # the user is looking at the window
    node = Node()
    ref = weakref.ref(node)
    while "young+freeze" not in (busy_tick(collector), busy_tick(collector)):
        pass
    del node
    idle = [collector.tick() for _ in range(3 * collector.quiet_ticks_needed)]
    assert "reclaim" not in idle and ref() is not None
    collector.window["now"] = True  # type: ignore[attr-defined]  # another application came to the front
    assert collector.tick() == "reclaim" and ref() is None


def test_worker_allocations_are_collected_on_the_gui_thread_and_a_loaded_model_is_frozen(
        qtbot, tiny_bert_dir: Path) -> None:  # noqa: ANN001
    from adalora_studio.gui.worker import TorchWorker

    threads: list[str] = []

    def record(stage: str, _info: dict) -> None:
        if stage == "start":
            threads.append(threading.current_thread().name)

    gc.callbacks.append(record)
    c = GuiThreadCollector(interval_s=0.02, quiet_s=60.0)
    worker = TorchWorker()
    held: dict[str, object] = {}

    def load() -> int:
        from transformers import AutoModelForSequenceClassification

        held["model"] = AutoModelForSequenceClassification.from_pretrained(str(tiny_bert_dir))
        for _ in range(20_000):  # cyclic garbage made on the worker thread
            Node()
        return id(next(held["model"].parameters()))  # type: ignore[attr-defined]

    try:
        with qtbot.waitSignal(worker.submit(load).succeeded, timeout=120_000) as got:
            pass
        for _ in range(2 * OLDER_EVERY):
            busy_tick(c)
        assert threads and set(threads) == {threading.current_thread().name}
        unfrozen = {id(o) for o in gc.get_objects()}
        assert got.args[0] not in unfrozen and gc.get_freeze_count() > len(unfrozen)
    finally:
        gc.callbacks.remove(record)
        assert worker.shutdown(20_000)
        c.stop()
        held.clear()
