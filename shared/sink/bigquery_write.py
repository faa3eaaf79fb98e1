"""The event sink on BigQuery: the Storage Write API's default stream into ``event_landing``.

Why the default stream (docs/scale.md): it needs no stream to be created per writer (the
``CreateWriteStream`` rate is the scarce quota), rows are committed and queryable as soon as an append
is acknowledged, and its at-least-once delivery is exactly what the warehouse's deduplication by
``(provider_id, event_id)`` turns into exactly-once KPIs. An append returns only once BigQuery has
acknowledged it; a failure or a timeout raises ``SinkUnavailable`` (the request answers 503 and the
provider retries: the rows may have landed anyway, which the deduplication absorbs).

One long-lived ``AppendRowsStream`` per process (the client's own connection manager: requests are
matched to answers in order, so the function's threads share it), rows as protocol buffers whose
descriptor is built from the ``event_landing`` declaration, at most ~8 MB per append (the API takes
10 MB).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from google.api_core.exceptions import GoogleAPIError
from google.api_core.future.polling import DEFAULT_POLLING
from google.auth.exceptions import GoogleAuthError
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from shared.sink import Row, SinkUnavailable
from shared.warehouse.tables import EVENT_LANDING, ColumnType, Table

MAX_APPEND_BYTES = 8 * 1024 * 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = datetime.resolution

_PROTO_TYPES: dict[ColumnType, int] = {
    "STRING": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
    "JSON": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
    "INT64": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
    "FLOAT64": descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE,
    "BOOL": descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
    "TIMESTAMP": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,  # microseconds since the epoch
    "DATE": descriptor_pb2.FieldDescriptorProto.TYPE_INT32,  # days since the epoch
}


def row_descriptor(table: Table) -> descriptor_pb2.DescriptorProto:
    """A proto2 message with one optional field per column, as the Storage Write API expects."""
    message = descriptor_pb2.DescriptorProto(name="LandingRow")
    for number, column in enumerate(table.columns, start=1):
        message.field.add(
            name=column.name,
            number=number,
            type=_PROTO_TYPES[column.type],
            label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
        )
    return message


def _message_class(descriptor: descriptor_pb2.DescriptorProto) -> Any:
    pool = descriptor_pool.DescriptorPool()
    pool.Add(
        descriptor_pb2.FileDescriptorProto(
            name="landing_row.proto", package="channel_analytics", syntax="proto2", message_type=[descriptor]
        )
    )
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("channel_analytics.LandingRow"))


def _value(type_: ColumnType, value: Any) -> Any:
    if type_ == "TIMESTAMP":
        return (value - _EPOCH) // _MICROSECOND
    if type_ == "DATE":
        return (value - _EPOCH.date()).days
    return value


class BigQueryWriteSink:
    def __init__(
        self,
        project: str,
        dataset: str,
        *,
        endpoint: str | None = None,
        timeout_s: float = 20.0,
        table: Table = EVENT_LANDING,
    ):
        self.project = project
        self.dataset = dataset
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.table = table
        self._descriptor = row_descriptor(table)
        self._message = _message_class(self._descriptor)
        self._types = [(c.name, c.type) for c in table.columns]
        self._lock = threading.Lock()
        self._client: Any = None
        self._stream: Any = None

    @property
    def write_stream(self) -> str:
        return f"projects/{self.project}/datasets/{self.dataset}/tables/{self.table.name}/streams/_default"

    def serialize(self, row: Row) -> bytes:
        message = self._message()
        for name, type_ in self._types:
            value = row.get(name)
            if value is not None:
                setattr(message, name, _value(type_, value))
        return message.SerializeToString()

    def _open(self) -> Any:
        """The process's append stream, (re)opened on first use and after a failure."""
        from google.cloud.bigquery_storage_v1 import BigQueryWriteClient, types, writer

        with self._lock:
            if self._stream is not None and self._stream.is_active:
                return self._stream
            if self._client is None:
                if self.endpoint:
                    import grpc
                    from google.auth.credentials import AnonymousCredentials
                    from google.cloud.bigquery_storage_v1.services.big_query_write.transports import (
                        BigQueryWriteGrpcTransport,
                    )

                    channel = grpc.insecure_channel(self.endpoint)
                    transport = BigQueryWriteGrpcTransport(
                        channel=channel, credentials=AnonymousCredentials()
                    )
                    self._client = BigQueryWriteClient(transport=transport)
                else:
                    self._client = BigQueryWriteClient()
            template = types.AppendRowsRequest(
                write_stream=self.write_stream,
                proto_rows=types.AppendRowsRequest.ProtoData(
                    writer_schema=types.ProtoSchema(proto_descriptor=self._descriptor)
                ),
            )
            self._stream = writer.AppendRowsStream(self._client, template)
            return self._stream

    def append(self, rows: Sequence[Row]) -> None:
        """Every row acknowledged, or ``SinkUnavailable`` (some may have landed: at least once)."""
        from google.cloud.bigquery_storage_v1 import types

        batches: list[list[bytes]] = [[]]
        size = 0
        for row in rows:
            data = self.serialize(row)
            if size + len(data) > MAX_APPEND_BYTES and batches[-1]:
                batches.append([])
                size = 0
            batches[-1].append(data)
            size += len(data)
        try:
            stream = self._open()
            futures = [
                stream.send(
                    types.AppendRowsRequest(
                        # Optional after a connection's first request; always sent, so every request
                        # stands on its own (the emulator the tests use requires it).
                        write_stream=self.write_stream,
                        proto_rows=types.AppendRowsRequest.ProtoData(
                            rows=types.ProtoRows(serialized_rows=batch)
                        ),
                    )
                )
                for batch in batches
                if batch
            ]
            # The client's futures poll for their answer, by default after 1 s, then slower: every
            # request would wait a second. Poll from 2 ms up to 50 ms instead (answers take ms).
            polling = DEFAULT_POLLING.with_delay(initial=0.002, maximum=0.05, multiplier=1.5).with_timeout(
                self.timeout_s
            )
            for future in futures:
                response = future.result(timeout=self.timeout_s, polling=polling)
                errors = list(getattr(response, "row_errors", []) or [])
                if errors:
                    raise SinkUnavailable(f"event sink: {len(errors)} rows refused: {errors[0].message}")
        except SinkUnavailable:
            self._reset()
            raise
        except (GoogleAPIError, GoogleAuthError, TimeoutError) as exc:
            self._reset()
            raise SinkUnavailable(f"event sink: {exc}") from exc
        except Exception as exc:  # the stream's own failures (closed, broken connection)
            self._reset()
            raise SinkUnavailable(f"event sink: {exc!r}") from exc

    def _reset(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):  # closing a broken stream may fail again: dropped
                stream.close()

    def close(self) -> None:
        self._reset()
