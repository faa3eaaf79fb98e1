"""Exactly-once sending through an outbox in the store (docs/outputs.md).

A message is first written as a ``Delivery`` (create-if-absent under an id derived from what it is:
one report per subscription and day, one message per alert, occurrence and kind), then sent:

1. ``sending``: the attempt is recorded before the message leaves (attempts + 1);
2. the mailer or publisher hands it over;
3. ``sent`` with the provider's message id, or ``failed`` with the error.

A re-run finds the delivery ``sent`` and skips it: nothing is sent twice. A failed send stays due and
the next run tries again: nothing is lost. The one window left is a crash between 2 and 3 (the
message left, the store does not know): the delivery is still ``sending``, so the next run sends it
again: at most one duplicate per crash (neither SES nor a standard SNS topic takes an idempotency
key; a FIFO topic does, and e-mails are written with a stable Message-ID for clients that deduplicate).
Runs never overlap: the report holds its own lease, alerts are sent under the aggregation's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from shared.outputs.channels import SendFailed
from shared.store.port import Store
from shared.store.records import Delivery

log = logging.getLogger("channel_analytics.outputs")

MAX_ERROR = 500
DUE_PER_RUN = 1000


class Cancelled(Exception):
    """The message is no longer wanted (e.g. its subscription was removed): never send it."""


@dataclass
class Sent:
    """What one pass over the due deliveries did."""

    sent: int = 0
    failed: int = 0
    retried: int = 0  # of the sent and failed ones, how many had been tried before
    cancelled: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "retried": self.retried,
            "cancelled": self.cancelled,
        }


def deliver(store: Store, kind: str, send: Callable[[Delivery], str], clock: Callable[[], datetime]) -> Sent:
    """Send every due delivery of ``kind`` with ``send`` (which returns the message id, raises
    ``SendFailed`` to retry later or ``Cancelled`` to drop it)."""
    done = Sent()
    for due in store.due_deliveries(kind, DUE_PER_RUN):
        attempt = replace(due, status="sending", attempts=due.attempts + 1, last_attempt_at=clock())
        store.save_delivery(attempt)
        done.retried += due.attempts > 0
        try:
            message_id = send(attempt)
        except Cancelled as exc:
            store.save_delivery(replace(attempt, status="cancelled", last_error=str(exc)[:MAX_ERROR]))
            done.cancelled += 1
            continue
        except SendFailed as exc:
            log.warning(
                "%s delivery %s failed (attempt %d): %s", kind, due.delivery_id, attempt.attempts, exc
            )
            store.save_delivery(replace(attempt, status="failed", last_error=str(exc)[:MAX_ERROR]))
            done.failed += 1
            continue
        store.save_delivery(
            replace(attempt, status="sent", message_id=message_id, sent_at=clock(), last_error=None)
        )
        done.sent += 1
    return done
