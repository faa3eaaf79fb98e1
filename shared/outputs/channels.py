"""Where report e-mails and alerts go, chosen by URL (``ANALYTICS_MAILER``, ``ANALYTICS_ALERTS``).

- ``file://.local/outbox`` (embedded default): each e-mail is an ``.eml`` file named by its delivery
  id, written atomically, so sending the same delivery again replaces the file instead of adding one;
- ``ses://REGION``: Amazon SES ``SendRawEmail`` (HTML and text parts, inline chart images);
- ``file://.local/alerts.jsonl`` (embedded default): one JSON line per alert message;
- ``sns://REGION/TOPIC_ARN``: Amazon SNS ``Publish``; a FIFO topic (``….fifo``) gets the delivery id
  as its deduplication id, so even the one resend after a crash is dropped by SNS within 5 minutes.

Every failure to hand a message over raises ``SendFailed``: the delivery stays due and the next run
tries again (``shared.outputs.outbox``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from botocore.exceptions import BotoCoreError, ClientError

from shared.outputs.aws import aws_session


class SendFailed(Exception):
    """The message was not handed over; retry later."""


class Mailer(Protocol):
    def send(self, delivery_id: str, message: EmailMessage) -> str:
        """Hand the e-mail over; returns the provider's message id."""


class Publisher(Protocol):
    def publish(self, delivery_id: str, provider_id: str, subject: str, body: dict[str, Any]) -> str:
        """Publish one alert message; returns the message id."""


def _file_path(url: str) -> Path:
    """``file://relative/path`` (the embedded defaults) or ``file:///absolute/path``."""
    rest = url[len("file://") :]
    if not rest:
        raise ValueError(f"unsupported URL {url!r}: use file://PATH")
    return Path(rest)


class FileMailer:
    def __init__(self, directory: Path):
        self.directory = directory

    def send(self, delivery_id: str, message: EmailMessage) -> str:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            target = self.directory / f"{delivery_id}.eml"
            fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".sending-", suffix=".eml")
            with os.fdopen(fd, "wb") as out:
                out.write(message.as_bytes())
            os.replace(temp, target)
        except OSError as exc:
            raise SendFailed(f"outbox {self.directory}: {exc}") from exc
        return f"file:{target.name}"


class SesMailer:
    def __init__(self, region: str, session_factory: Callable[[str], Any]):
        self.region = region
        self._client = session_factory(region).client("ses")

    def send(self, delivery_id: str, message: EmailMessage) -> str:
        try:
            answer = self._client.send_raw_email(
                Source=str(message["From"]),
                Destinations=[str(message["To"])],
                RawMessage={"Data": message.as_bytes()},
            )
        except (ClientError, BotoCoreError) as exc:
            raise SendFailed(f"ses: {exc}") from exc
        return str(answer["MessageId"])


class FilePublisher:
    def __init__(self, path: Path):
        self.path = path

    def publish(self, delivery_id: str, provider_id: str, subject: str, body: dict[str, Any]) -> str:
        line = json.dumps({"deliveryId": delivery_id, "subject": subject, **body}, sort_keys=True)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            raise SendFailed(f"alerts file {self.path}: {exc}") from exc
        return f"file:{delivery_id}"


class SnsPublisher:
    def __init__(self, region: str, topic_arn: str, session_factory: Callable[[str], Any]):
        self.topic_arn = topic_arn
        self._client = session_factory(region).client("sns")

    def publish(self, delivery_id: str, provider_id: str, subject: str, body: dict[str, Any]) -> str:
        request: dict[str, Any] = {
            "TopicArn": self.topic_arn,
            "Subject": subject,
            "Message": json.dumps(body, sort_keys=True),
            "MessageAttributes": {
                "alert_id": {"DataType": "String", "StringValue": str(body["alertId"])},
                "provider_id": {"DataType": "String", "StringValue": provider_id},
                "kpi": {"DataType": "String", "StringValue": str(body["kpi"])},
                "type": {"DataType": "String", "StringValue": str(body["type"])},
            },
        }
        if self.topic_arn.endswith(".fifo"):
            request["MessageGroupId"] = provider_id
            request["MessageDeduplicationId"] = delivery_id
        try:
            answer = self._client.publish(**request)
        except (ClientError, BotoCoreError) as exc:
            raise SendFailed(f"sns: {exc}") from exc
        return str(answer["MessageId"])


def _federated(role_arn: str | None) -> Callable[[str], Any]:
    return lambda region: aws_session(region, role_arn)


def open_mailer(url: str, role_arn: str | None = None) -> Mailer:
    """A mailer for ``file://DIR`` or ``ses://REGION``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return FileMailer(_file_path(url))
    if parsed.scheme == "ses" and parsed.netloc and parsed.path in ("", "/"):
        return SesMailer(parsed.netloc, _federated(role_arn))
    raise ValueError(f"unsupported mailer URL {url!r}: use file://DIR or ses://REGION")


def open_publisher(url: str, role_arn: str | None = None) -> Publisher:
    """A publisher for ``file://PATH`` or ``sns://REGION/TOPIC_ARN``."""
    if url.startswith("file://"):
        return FilePublisher(_file_path(url))
    if url.startswith("sns://"):
        region, _, topic = url[len("sns://") :].partition("/")
        if region and topic.startswith("arn:aws:sns:"):
            return SnsPublisher(region, topic, _federated(role_arn))
    raise ValueError(f"unsupported alerts URL {url!r}: use file://PATH or sns://REGION/TOPIC_ARN")
