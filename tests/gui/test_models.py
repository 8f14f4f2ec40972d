"""The GUI's item models: qtmodeltester on real data, streaming, sorting, merging, shape."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from postroom.core.control.queue_rows import has_rows_index
from postroom.gui.models.connections import ConnectionListModel, local_entry, server_entry
from postroom.gui.models.queue_loader import QueueLoader, row_converter
from postroom.gui.models.queue_model import Column, QueueModel
from postroom.gui.models.queue_rows import (
    ARRAY_FIELDS,
    SIZE,
    QueueRow,
    as_row,
    row_from_wire,
    rows_from_arrays,
    rows_from_wire,
)
from postroom.gui.models.session import Session
from postroom.gui.models.shape_model import ShapeModel
from postroom.gui.settings import ServerProfile
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
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
    convert = row_converter(lambda r: r[SIZE] > 100)
    assert [r[0] for r in convert(rows)] == ["B2"]


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


WIRE_ROWS: list[Any] = [
    {  # the usual row
        "queue_name": "deferred",
        "queue_id": "6APNP65t007729",
        "arrival_time": 1795562655,
        "message_size": 200,
        "sender": "sender11@origin.test",
        "recipients": [
            {"address": "user349@corp.test", "delay_reason": "Deferred: refused"},
            {"address": "other6@example.org", "delay_reason": ""},
        ],
        "attempts": 1,
        "last_attempt": 1795562685,
        "next_try": 1795562685,
        "priority": 60200,
        "quarantine": None,
        "status": "Deferred: Connection refused by mx.corp.test",
        "locked": False,
        "error": None,
    },
    {  # no envelope status: the recipients' delay reasons stand in
        "queue_name": "hold",
        "queue_id": "B2",
        "arrival_time": 5,
        "message_size": 9,
        "sender": "",
        "recipients": [{"address": "a@b", "delay_reason": "Deferred: x"}],
        "attempts": 0,
        "last_attempt": None,
        "next_try": None,
        "priority": 0,
        "quarantine": "spam",
        "status": None,
        "locked": True,
        "error": None,
    },
    {"queue_id": "C3", "sender": "x@a.example", "recipients": [], "message_size": 10},  # sparse
    {  # odd types: a float time, a bool size, a number as sender, a non-object recipient
        "queue_name": "corrupt",
        "queue_id": "D4",
        "arrival_time": 7.5,
        "message_size": True,
        "sender": 12,
        "recipients": ["not an object", {"address": "z@y"}],
        "attempts": "3",
        "last_attempt": None,
        "next_try": None,
        "priority": 0,
        "quarantine": None,
        "status": "",
        "locked": False,
        "error": "qf: bad line 3",
    },
    "not a row",
    ["neither"],
]


def test_a_chunk_converts_in_one_pass_like_row_by_row() -> None:
    fast = rows_from_wire(WIRE_ROWS)
    careful = [row_from_wire(r) for r in WIRE_ROWS if isinstance(r, dict)]
    assert fast == careful and all(type(r) is tuple for r in fast)
    usual, fallback, sparse, odd = (as_row(r) for r in fast)
    assert usual.recipients == ("user349@corp.test", "other6@example.org")
    assert usual.status.startswith("Deferred: Connection refused") and usual.hold == ""
    assert (fallback.status, fallback.held, fallback.locked, fallback.mark(0)) == (
        "Deferred: x",
        True,
        True,
        "*",
    )
    assert (sparse.queue_name, sparse.arrival, sparse.size, sparse.next_try) == (
        "incoming",
        0,
        10,
        None,
    )
    assert (odd.arrival, odd.size, odd.sender, odd.attempts) == (7, -1, "12", 0)
    assert odd.recipients == ("z@y",) and odd.status_text() == "qf: bad line 3"


def test_array_rows_give_the_same_rows_as_objects() -> None:
    objects = WIRE_ROWS[:2]
    arrays = []
    for row in objects:
        values = [row[name] for name in ARRAY_FIELDS]
        values[ARRAY_FIELDS.index("recipients")] = [
            [r["address"], r["delay_reason"]] for r in row["recipients"]
        ]
        arrays.append(values)
    odd = [*arrays[0]]
    odd[ARRAY_FIELDS.index("recipients")] = ["a@b"]  # not [address, reason]
    assert rows_from_arrays(arrays) == rows_from_wire(objects)
    # a bad recipient list is read the careful way; what is no row at all is dropped
    assert [r[0] for r in rows_from_arrays([odd, [1, 2], "x", objects[1]])] == [
        objects[0]["queue_id"],
        objects[1]["queue_id"],
    ]


def test_the_loader_asks_for_arrays_only_when_the_server_offers_them(qtbot: QtBot) -> None:
    offered: dict[str, Any] = {}

    def no_request(*_args: Any, **_kw: Any) -> Any:
        raise AssertionError("not called")

    loader = QueueLoader(no_request, QueueModel(), server_info=lambda: offered)
    assert not loader.arrays_offered()
    offered["queue_list_row_formats"] = ["object", "array"]
    assert loader.arrays_offered()
    offered["queue_list_row_formats"] = "array"  # not a list: not understood
    assert not loader.arrays_offered()


def test_a_real_server_sends_arrays_from_the_folder_and_the_index(
    qtbot: QtBot, session: Session, queue_dir: Path, built: BuiltQueue
) -> None:
    qtbot.waitUntil(lambda: session.info is not None, timeout=WAIT)
    asked: list[dict[str, Any]] = []

    def recorded(method: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        asked.append({"method": method, **(params or {})})
        return session.request(method, params, **kw)

    def loaded(**kw: Any) -> list[QueueRow]:
        model = QueueModel()
        summary = load(qtbot, QueueLoader(recorded, model, **kw))
        assert summary["count"] == len(built.all)
        return sorted(model.rows(), key=lambda r: r.qid)

    assert not has_rows_index(queue_dir, 0)
    from_folder = loaded(server_info=lambda: session.info)  # the session's first listing
    qtbot.waitUntil(lambda: has_rows_index(queue_dir, 0), timeout=WAIT)  # built after it
    from_index = loaded(server_info=lambda: session.info)
    objects = loaded()  # no server.info: the loader asks for objects
    assert [a.get("row_format") for a in asked] == ["array", "array", None]
    assert from_folder == from_index == objects
    assert sorted(r.qid for r in objects) == sorted(built.all)
    assert {r.queue_name for r in objects} >= {"hold", "deferred"}


def test_the_collector_is_paused_while_loads_stream_and_resumes_after(
    qtbot: QtBot, session: Session, built: BuiltQueue
) -> None:
    assert gc.isenabled()
    first = QueueLoader(session.request, QueueModel())
    second = QueueLoader(session.request, QueueModel())
    during: list[bool] = []
    first.progress.connect(lambda _count: during.append(gc.isenabled()))
    assert load(qtbot, first)["count"] == len(built.all)
    assert during and not any(during)
    assert gc.isenabled()
    with qtbot.waitSignal(second.finished, timeout=WAIT):
        second.load()
        first.load()
        first.cancel()  # one load ends; the other still streams
        assert not gc.isenabled()
    assert gc.isenabled()


def test_sorting_on_every_column_orders_by_its_key_and_keeps_persistent_rows(
    qtbot: QtBot,
) -> None:
    rows = [
        QueueRow(
            f"q{i:02d}",
            queue_name="hold" if i % 5 == 0 else "deferred",
            arrival=1000 - (i * 37) % 23,
            size=(i * 7919) % 101,
            sender=["Bob@x", "alice@y", "", "carol@z"][i % 4],
            recipients=tuple(f"r{j}@d{i % 3}" for j in range(i % 3)),
            status=["Deferred: b", "deferred: A", ""][i % 3],
            attempts=i % 4,
            next_try=None if i % 6 == 0 else 2000 + (i * 13) % 17,
            hold="Spam" if i % 5 == 0 else "",
            error="bad" if i == 7 else "",
        )
        for i in range(40)
    ]
    expected_keys = {
        Column.ID: lambda r: r.qid,
        Column.SIZE: lambda r: r.size,
        Column.ARRIVED: lambda r: r.arrival,
        Column.AGE: lambda r: -r.arrival,
        Column.SENDER: lambda r: r.sender.lower(),
        Column.RECIPIENTS: lambda r: r.recipients[0].lower() if r.recipients else "",
        Column.STATUS: lambda r: r.status_text().lower(),
        Column.TRIES: lambda r: r.attempts,
        Column.NEXT: lambda r: 2**62 if r.next_try is None else r.next_try,
        Column.HOLD: lambda r: r.hold.lower(),
    }
    model = QueueModel()
    model.begin_load()
    model.add_rows(rows)
    model.end_load()
    for keep in (False, True):
        kept = QPersistentModelIndex(model.index(3, 1)) if keep else None
        kept_qid = model.row_at(3).qid
        for column, key in expected_keys.items():
            for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
                before = model.rows()
                model.sort(column, order)
                after = model.rows()
                descending = order == Qt.SortOrder.DescendingOrder
                assert after == sorted(before, key=key, reverse=descending), (column, order)
                if kept is not None:
                    assert model.row_at(kept.row()).qid == kept_qid and kept.column() == 1
