"""The GUI's item models: qtmodeltester on real data, streaming, sorting, merging, shape."""

from __future__ import annotations

from typing import Any

from postroom.gui.models.connections import ConnectionListModel, local_entry, server_entry
from postroom.gui.models.queue_loader import QueueLoader, row_converter
from postroom.gui.models.queue_model import Column, QueueModel
from postroom.gui.models.queue_rows import QueueRow
from postroom.gui.models.session import Session
from postroom.gui.models.shape_model import ShapeModel
from postroom.gui.settings import ServerProfile
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from .realistic import BuiltQueue

WAIT = 30_000


def load(qtbot: QtBot, loader: QueueLoader, *, merge: bool = False) -> Any:
    with qtbot.waitSignal(loader.finished, timeout=WAIT) as blocker:
        loader.load(merge=merge)
    return blocker.args[0]


def test_queue_model_passes_modeltester_while_streaming_and_sorting(
    qtbot: QtBot, qtmodeltester: ModelTester, session: Session, built: BuiltQueue
) -> None:
    model = QueueModel(batch_rows=4, first_rows=3)  # many small batches: fetchMore at work
    qtmodeltester.check(model, force_py=True)
    loader = QueueLoader(session.request, model)
    summary = load(qtbot, loader)
    assert summary["count"] == len(built.all)
    assert sorted(r.qid for r in model.rows()) == sorted(built.all)
    for column in Column:
        model.sort(column, Qt.SortOrder.DescendingOrder)
    load(qtbot, loader, merge=True)
    assert model.rowCount() == len(built.all)


def test_rows_show_before_the_stream_ends_and_the_rest_is_fetched(qtbot: QtBot) -> None:
    model = QueueModel(batch_rows=10, first_rows=5)
    model.begin_load()
    model.add_rows([QueueRow(f"id{i:03d}", arrival=i) for i in range(40)])
    assert model.rowCount() == 5  # the first rows at once
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 15
    qtbot.waitUntil(lambda: model.rowCount() == 40, timeout=WAIT)  # drained between events
    assert not model.canFetchMore(QModelIndex())
    model.end_load()
    assert model.rowCount() == 40


def test_sort_keeps_the_selection_on_its_rows(qtbot: QtBot) -> None:
    model = QueueModel()
    model.begin_load()
    model.add_rows([QueueRow(f"q{i}", size=100 - i, arrival=i) for i in range(10)])
    model.end_load()
    kept = model.index(2, 0)
    from PySide6.QtCore import QPersistentModelIndex

    persistent = QPersistentModelIndex(kept)
    model.sort(Column.SIZE, Qt.SortOrder.AscendingOrder)
    assert model.row_at(0).qid == "q9"
    assert model.row_at(persistent.row()).qid == "q2"


def test_merge_removes_updates_and_appends(qtbot: QtBot, qtmodeltester: ModelTester) -> None:
    model = QueueModel()
    qtmodeltester.check(model, force_py=True)
    model.begin_load()
    model.add_rows([QueueRow(q, attempts=0) for q in ("a", "b", "c", "d", "e")])
    model.end_load()
    model.begin_load(merge=True)
    model.add_rows([QueueRow("b", attempts=3), QueueRow("e"), QueueRow("f")])
    assert model.rowCount() == 5  # nothing changes before the end
    model.end_load()
    assert [r.qid for r in model.rows()] == ["b", "e", "f"]
    assert model.row_at(0).attempts == 3


def test_row_converter_applies_the_local_filter() -> None:
    rows = [
        {"queue_id": "A1", "sender": "x@a.example", "recipients": [], "message_size": 10},
        {"queue_id": "B2", "sender": "y@b.example", "recipients": [], "message_size": 5000},
    ]
    convert = row_converter(lambda r: r.size > 100)
    assert [r.qid for r in convert(rows)] == ["B2"]


def test_shape_model_passes_modeltester_and_maps_cells(
    qtbot: QtBot, qtmodeltester: ModelTester, session: Session
) -> None:
    model = ShapeModel()
    qtmodeltester.check(model, force_py=True)
    req = session.request("queue.shape", {"top": 3})
    with qtbot.waitSignal(req.finished, timeout=WAIT) as blocker:
        pass
    model.set_shape(blocker.args[0])
    assert model.rowCount() >= 4  # three domains, the rest, the total
    first = model.cell_filter(model.index(0, 3))  # second bucket: 5-10m
    assert first is not None and first.domain and (first.min_age, first.max_age) == (300, 600)
    total = model.cell_filter(model.index(model.rowCount() - 1, 1))
    assert total is not None and total.domain is None and total.min_age is None


def test_connection_list_model_passes_modeltester(qtmodeltester: ModelTester) -> None:
    model = ConnectionListModel([local_entry(None)])
    qtmodeltester.check(model, force_py=True)
    row = model.add(server_entry(ServerProfile("mx1", "mx1.example.org", "admin")))
    model.set_state("admin@mx1.example.org:22", "connected", "")
    assert "connected" in model.data(model.index(row))
    model.remove(0)  # the local entry stays
    assert model.rowCount() == 2
    model.remove(row)
    assert model.rowCount() == 1
