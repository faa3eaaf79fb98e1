"""The daily report e-mail: content, exactly once under re-runs, crashes and send failures, SES."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from shared.outputs.channels import FileMailer, SendFailed, open_mailer
from shared.outputs.report import KIND, change, delivery_id, run_report
from shared.store.records import AuditEntry, ReportSubscription
from shared.store.sqlite import SqliteStore
from shared.warehouse.duckdb import DuckDbWarehouse
from tests.outputs.world import END, PROVIDER, build, counts

NOW = datetime.combine(END + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
SENDER = "Channel Analytics <reports@example.com>"


@pytest.fixture(scope="module")
def warehouse_path(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("report") / "warehouse.duckdb")


@pytest.fixture
def warehouse(warehouse_path):
    wh = DuckDbWarehouse(str(warehouse_path))
    yield wh
    wh.close()


def subscribe(store, email_address: str, experience: str | None = None) -> ReportSubscription:
    sub = ReportSubscription(PROVIDER, f"sub-{email_address}", email_address, experience, NOW, "op")
    store.add_subscription(
        sub, AuditEntry(f"a-{email_address}", PROVIDER, NOW, "op", "report.subscribed", "x", None, 1)
    )
    return sub


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(str(tmp_path / "store.sqlite3"))
    yield s
    s.close()


class Recording:
    """A mailer that keeps what it sends; ``fail`` makes the next sends fail, ``crash_after_send``
    hands the message over and then dies, as a process killed before it records the send would."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.fail = 0
        self.crash_after_send = False

    def send(self, delivery_id: str, message: EmailMessage) -> str:
        if self.fail:
            self.fail -= 1
            raise SendFailed("Throttling: maximum sending rate exceeded")
        self.sent.append(message)
        if self.crash_after_send:
            self.crash_after_send = False
            raise KeyboardInterrupt("killed after SES accepted the message")
        return f"m-{len(self.sent)}"


def test_the_e_mail_has_the_day_and_its_change_as_text_html_and_an_inline_chart(store, warehouse):
    subscribe(store, "ada@example.com")
    mailer = Recording()
    answer = run_report(store, warehouse, lambda: mailer, NOW, SENDER)
    assert (answer.day, answer.queued, answer.sent, answer.failed) == (END.isoformat(), 1, 1, 0)
    [message] = mailer.sent
    assert message["To"] == "ada@example.com" and message["From"] == SENDER
    assert END.isoformat() in message["Subject"] and PROVIDER in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    today, yesterday = (
        counts(END)["incoming_conversations"][0],
        counts(END - timedelta(days=1))["incoming_conversations"][0],
    )
    line = next(x for x in text.splitlines() if x.startswith("Incoming conversations"))
    assert f"{today:,}" in line and f"day before {yesterday:,}" in line
    assert f"{100 * (today - yesterday) / yesterday:+.1f} %" in line
    html = message.get_body(("html",)).get_content()
    assert "Incoming conversations" in html and "cid:" in html
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0].get_payload(decode=True).startswith(b"\x89PNG")
    assert f"<{html.split('cid:')[1].split(chr(34))[0]}>" == images[0]["Content-ID"]


def test_an_experience_subscription_gets_that_experience_only(store, warehouse):
    subscribe(store, "bot@example.com", "exp-advent")
    mailer = Recording()
    run_report(store, warehouse, lambda: mailer, NOW, SENDER)
    text = mailer.sent[0].get_body(("plain",)).get_content()
    assert "exp-advent" in mailer.sent[0]["Subject"]
    assert "Chat sessions" in text and "120" in text and "Incoming conversations" not in text


def test_a_re_run_for_the_same_day_sends_nothing_twice(store, warehouse):
    for who in ("ada@example.com", "bob@example.com"):
        subscribe(store, who)
    mailer = Recording()
    first = run_report(store, warehouse, lambda: mailer, NOW, SENDER)
    again = run_report(store, warehouse, lambda: mailer, NOW + timedelta(hours=1), SENDER)
    explicit = run_report(store, warehouse, lambda: mailer, NOW + timedelta(hours=2), SENDER, END)
    assert (first.sent, again.sent, again.queued, explicit.sent) == (2, 0, 0, 0)
    assert sorted(m["To"] for m in mailer.sent) == ["ada@example.com", "bob@example.com"]
    # The next day is a new report.
    assert run_report(store, warehouse, lambda: mailer, NOW + timedelta(days=1), SENDER).sent == 2


def test_a_failed_send_is_kept_and_sent_by_the_next_run_once(store, warehouse):
    subscribe(store, "ada@example.com")
    subscribe(store, "bob@example.com")
    mailer = Recording()
    mailer.fail = 1
    failed = run_report(store, warehouse, lambda: mailer, NOW, SENDER)
    assert (failed.sent, failed.failed) == (1, 1)
    [stored] = store.due_deliveries(KIND, 10)
    assert stored.status == "failed" and "Throttling" in stored.last_error and stored.attempts == 1
    # Tomorrow's run retries yesterday's failure as well as sending today's.
    later = run_report(store, warehouse, lambda: mailer, NOW + timedelta(days=1), SENDER)
    assert (later.sent, later.failed, later.retried) == (3, 0, 1)
    by_day: dict[str, list[str]] = {}
    for message in mailer.sent:
        by_day.setdefault(message["Subject"].split()[2], []).append(message["To"])
    assert {day: sorted(to) for day, to in by_day.items()} == {
        END.isoformat(): ["ada@example.com", "bob@example.com"],
        (END + timedelta(days=1)).isoformat(): ["ada@example.com", "bob@example.com"],
    }


def test_a_crash_after_sending_resends_at_most_once_and_never_loses_the_e_mail(store, warehouse):
    ada = subscribe(store, "ada@example.com")
    mailer = Recording()
    mailer.crash_after_send = True
    with pytest.raises(KeyboardInterrupt):
        run_report(store, warehouse, lambda: mailer, NOW, SENDER)
    assert store.get_delivery(KIND, PROVIDER, delivery_id(ada, END)).status == "sending"
    run_report(store, warehouse, lambda: mailer, NOW + timedelta(minutes=20), SENDER)
    run_report(store, warehouse, lambda: mailer, NOW + timedelta(minutes=40), SENDER)
    assert len(mailer.sent) == 2, "the documented window: one duplicate after a crash, then never again"
    assert mailer.sent[0]["Message-ID"] == mailer.sent[1]["Message-ID"], (
        "a stable Message-ID lets clients drop it"
    )


def test_a_removed_subscription_is_not_sent_and_a_held_lease_means_busy(store, warehouse):
    ada = subscribe(store, "ada@example.com")
    mailer = Recording()
    mailer.fail = 1
    run_report(store, warehouse, lambda: mailer, NOW, SENDER)
    store.remove_subscription(
        PROVIDER, ada.subscription_id, AuditEntry("rm", PROVIDER, NOW, "op", "x", "y", None, None)
    )
    assert run_report(store, warehouse, lambda: mailer, NOW + timedelta(hours=1), SENDER).cancelled == 1
    assert mailer.sent == []
    assert store.acquire_lease("report", "someone", NOW, 900)
    assert run_report(store, warehouse, lambda: mailer, NOW, SENDER).status == "busy"


def test_the_file_mailer_writes_one_eml_per_delivery_even_when_sent_again(tmp_path, store, warehouse):
    subscribe(store, "ada@example.com")
    outbox = tmp_path / "outbox"
    run_report(store, warehouse, lambda: open_mailer(f"file://{outbox}"), NOW, SENDER)
    [written] = list(outbox.glob("*.eml"))
    parsed = email.message_from_bytes(written.read_bytes())
    assert parsed["To"] == "ada@example.com" and parsed.is_multipart()
    again = email.message_from_bytes(written.read_bytes())
    FileMailer(outbox).send(written.stem, again)  # a resend after a crash replaces, never adds
    assert len(list(outbox.glob("*.eml"))) == 1


@mock_aws
def test_ses_sends_the_raw_e_mail_and_an_unverified_sender_is_a_retryable_failure(store, warehouse):
    subscribe(store, "ada@example.com")
    ses = boto3.client("ses", region_name="eu-west-1")
    failed = run_report(store, warehouse, lambda: open_mailer("ses://eu-west-1"), NOW, SENDER)
    assert (failed.sent, failed.failed) == (0, 1), "SES refuses an unverified sender: kept, not lost"
    ses.verify_email_identity(EmailAddress="reports@example.com")
    sent = run_report(
        store, warehouse, lambda: open_mailer("ses://eu-west-1"), NOW + timedelta(hours=1), SENDER
    )
    assert (sent.sent, sent.retried) == (1, 1)
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"]
    assert [set(m.destinations) for m in backend.sent_messages] == [{"ada@example.com"}]
    [delivery] = [
        d
        for d in [
            store.get_delivery(KIND, PROVIDER, delivery_id(s, END)) for s in store.list_subscriptions(None)
        ]
    ]
    assert delivery.status == "sent" and delivery.message_id


def test_changes_read_as_a_supervisor_expects():
    assert change(0.12, 0.10, "ratio") == "+2.0 pts"
    assert change(110, 100, "count") == "+10.0 %"
    assert change(5, 0, "count") == "new"
    assert change(None, 3, "count") == "no previous value"
    assert change(-20, -10, "score") == "-10.0 pts"


def test_unknown_mailer_urls_are_refused():
    for url in ("smtp://x", "ses://", "file://"):
        with pytest.raises(ValueError):
            open_mailer(url)
