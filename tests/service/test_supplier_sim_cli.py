"""``suture supplier-sim``: answer an 850 file, or watch an outbox once."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from suture.domain.purchasing import PurchaseOrder, PurchaseOrderLine
from suture.entrypoints.cli import app
from suture.formats.x12 import ControlNumbers, TradingPartnerProfile, decode_document, write_850

runner = CliRunner()
HUB = TradingPartnerProfile(
    sender_qualifier="ZZ", sender_id="SUTURE", receiver_qualifier="ZZ", receiver_id="ACME"
)


def _850(path: Path, number: str = "PO-7") -> Path:
    po = PurchaseOrder(
        id=number, number=number, facility_id="fac-1", supplier_id="sup-1",
        order_date=date(2026, 11, 2),
        lines=[PurchaseOrderLine(line_number=1, item_id="I-1", quantity=Decimal(3), uom="EA",
                                 unit_price=Decimal("5.00"))],
    )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    at = datetime(2026, 11, 2, tzinfo=UTC)
    path.write_bytes(write_850(po, HUB, ControlNumbers(interchange=1, group=1), at))
    return path


def test_answer_writes_the_scenarios_replies_and_lists_them(tmp_path: Path) -> None:
    po = _850(tmp_path / "po.x12")
    result = runner.invoke(
        app,
        ["supplier-sim", "answer", str(po), "--out", str(tmp_path / "out"),
         "--scenario", "duplicate_invoice", "--control-start", "90", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)["replies"]
    assert [r["transaction_set"] for r in listed] == ["855", "856", "810", "810"]
    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == 4
    first = decode_document(files[0].read_bytes()).interchange
    assert first.control_number == "000000090"


def test_answer_refuses_a_file_that_is_not_x12_naming_why(tmp_path: Path) -> None:
    bad = tmp_path / "bad.x12"
    bad.write_bytes(b"MSH|^~\\&|not x12")
    result = runner.invoke(app, ["supplier-sim", "answer", str(bad), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "bad.x12" in result.stderr


def test_a_bad_mix_and_two_plans_at_once_are_refused(tmp_path: Path) -> None:
    po = _850(tmp_path / "po.x12")
    base = ["supplier-sim", "answer", str(po), "--out", str(tmp_path / "o")]
    bad_mix = runner.invoke(app, [*base, "--mix", "normal=1,nope=1"])
    assert bad_mix.exit_code == 2
    assert "unknown scenario 'nope'" in bad_mix.stderr
    both = runner.invoke(app, [*base, "--mix", "normal=1", "--scenario", "normal"])
    assert both.exit_code == 2


def test_run_once_answers_the_outbox_into_a_reply_folder(tmp_path: Path) -> None:
    _850(tmp_path / "outbox" / "x12_sup-1" / "po-PO-7")
    replies = tmp_path / "drop"
    result = runner.invoke(
        app,
        ["supplier-sim", "run", "--watch", str(tmp_path / "outbox"), "--reply-dir", str(replies),
         "--once", "--mix", "price_increase=1", "--seed", "3"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "sent 810 for PO-7 (price_increase)" in result.stdout
    assert len(list(replies.iterdir())) == 3


def test_run_needs_exactly_one_destination_and_the_secret_from_the_environment(
    tmp_path: Path,
) -> None:
    neither = runner.invoke(app, ["supplier-sim", "run", "--watch", str(tmp_path), "--once"])
    assert neither.exit_code == 2
    no_secret = runner.invoke(
        app,
        ["supplier-sim", "run", "--watch", str(tmp_path), "--hub-url", "http://127.0.0.1:9",
         "--client-id", "c", "--once"],
        env={"SUTURE_SIM_CLIENT_SECRET": ""},
    )  # fmt: skip
    assert no_secret.exit_code == 2
    assert "SUTURE_SIM_CLIENT_SECRET" in no_secret.stderr
