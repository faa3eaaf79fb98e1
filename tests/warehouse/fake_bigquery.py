"""A tiny local stand-in for the BigQuery REST API that records what Google's client library sends.

There is no BigQuery emulator here; this answers just enough of jobs.insert (plain and multipart
upload), jobs.get, jobs.getQueryResults and datasets.get for a load job and a query job to complete, so a real
``bigquery.Client`` (anonymous credentials, ``client_options.api_endpoint``) can be driven through
the adapter and its exact requests inspected.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Captured:
    method: str
    path: str
    body: bytes
    content_type: str

    def parts(self) -> list[tuple[str, bytes]]:
        """A multipart/related upload as (content type, payload) pairs: the job JSON, then the data."""
        raw = f"Content-Type: {self.content_type}\r\n\r\n".encode() + self.body
        message = message_from_bytes(raw, policy=HTTP)
        return [(p.get_content_type(), p.get_payload(decode=True)) for p in message.iter_parts()]


@dataclass
class FakeBigQuery:
    requests: list[Captured] = field(default_factory=list)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    datasets: set[str] = field(default_factory=set)

    def job_resource(self, project: str, config: dict[str, Any]) -> dict[str, Any]:
        job_id = config.get("jobReference", {}).get("jobId") or f"job{len(self.jobs)}"
        resource = {
            "kind": "bigquery#job",
            "id": f"{project}:{job_id}",
            "jobReference": {"projectId": project, "jobId": job_id, "location": "EU"},
            "configuration": config.get("configuration", {}),
            "status": {"state": "DONE"},
            "statistics": {"creationTime": "1", "startTime": "1", "endTime": "2"},
        }
        self.jobs[job_id] = resource
        return resource

    def query_results(self, project: str, job_id: str) -> dict[str, Any]:
        names = list(self.summary)
        return {
            "kind": "bigquery#getQueryResultsResponse",
            "jobReference": {"projectId": project, "jobId": job_id, "location": "EU"},
            "jobComplete": True,
            "totalRows": "1" if names else "0",
            "schema": {"fields": [{"name": n, "type": "STRING", "mode": "NULLABLE"} for n in names]},
            "rows": [{"f": [{"v": str(self.summary[n])} for n in names]}] if names else [],
        }


def serve(fake: FakeBigQuery) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _reply(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _capture(self) -> Captured:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            captured = Captured(self.command, self.path, body, self.headers.get("Content-Type", ""))
            fake.requests.append(captured)
            return captured

        def do_POST(self) -> None:
            captured = self._capture()
            project = self.path.split("/projects/")[1].split("/")[0]
            if "uploadType=multipart" in self.path:
                config = json.loads(captured.parts()[0][1])
            else:
                config = json.loads(captured.body or b"{}")
            self._reply(fake.job_resource(project, config))

        def do_GET(self) -> None:
            self._capture()
            project = self.path.split("/projects/")[1].split("/")[0]
            job_id = self.path.split("?")[0].rstrip("/").split("/")[-1]
            if "/datasets/" in self.path:
                dataset = self.path.split("/datasets/")[1].split("?")[0].split("/")[0]
                if dataset in fake.datasets:
                    self._reply(
                        {
                            "kind": "bigquery#dataset",
                            "datasetReference": {"projectId": project, "datasetId": dataset},
                        }
                    )
                else:
                    missing = {
                        "code": 404,
                        "message": f"Not found: Dataset {project}:{dataset}",
                        "status": "NOT_FOUND",
                    }
                    self._reply({"error": missing}, status=404)
            elif "/queries/" in self.path:
                self._reply(fake.query_results(project, job_id))
            else:
                self._reply(fake.jobs[job_id])

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
