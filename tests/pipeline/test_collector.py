"""pipeline.collector: one pause of the cyclic collector for the whole process."""

from __future__ import annotations

import gc
import threading

from pipeline.collector import collector_paused
from pipeline.extract import extract_document
from pipeline.readers import yaml_records


def test_the_collector_is_off_inside_a_pause_and_on_again_after_the_last_thread_leaves():
    assert gc.isenabled()
    inside, leave = threading.Event(), threading.Event()

    def other_source() -> None:
        with collector_paused():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=other_source)
    try:
        with collector_paused():
            assert not gc.isenabled()
            thread.start()
            assert inside.wait(5)
        assert not gc.isenabled()  # the other thread is still inside its pause
    finally:
        leave.set()
        thread.join(5)
    assert gc.isenabled()


def test_a_pause_leaves_a_collector_switched_off_by_someone_else_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_loads_pause_that_began_during_a_yaml_read_outlives_the_read(tmp_path, monkeypatch):
    # The YAML reader pauses the collector too. A load's pause (another thread) that begins
    # while a read is composing must still hold when the read ends: a pause of the reader's
    # own turned the collector back on under the load.
    path = tmp_path / "refs.yaml"
    path.write_text(
        "references:\n  - type: article-journal\n    title: A work\n    DOI: 10.1000/x1\n",
        encoding="utf-8",
    )
    composing, go = threading.Event(), threading.Event()
    compose = yaml_records._compose

    def slow_compose(text, reader):
        composing.set()
        go.wait(5)
        compose(text, reader)

    monkeypatch.setattr(yaml_records, "_compose", slow_compose)
    docs = []
    read = threading.Thread(target=lambda: docs.append(extract_document(str(path))))
    assert gc.isenabled()
    read.start()
    try:
        assert composing.wait(5)
        with collector_paused():  # the load begins while the read composes
            go.set()
            read.join(5)
            assert not gc.isenabled()
    finally:
        go.set()
        read.join(5)
    assert gc.isenabled()
    assert [i.value for e in docs[0].references for i in e.ids] == ["10.1000/x1"]
