"""What a handler answers with, and the error that short-cuts to an answer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

__all__ = ["JSON_TYPE", "Answer", "HttpError", "json_answer"]

JSON_TYPE = "application/json; charset=utf-8"


@dataclass
class Answer:
    """A complete HTTP answer before the app adds its common headers."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_json(self) -> bool:
        return self.content_type == JSON_TYPE


def json_answer(
    payload: object, status: int = 200, headers: list[tuple[str, str]] | None = None
) -> Answer:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Answer(status, body, JSON_TYPE, list(headers or []))


class HttpError(Exception):
    """Stops a handler and answers `{"error": message}` with this status.

    OAuth errors also carry a `description`: `{"error": "invalid_grant",
    "error_description": "..."}`, as Doorkeeper answers.
    """

    def __init__(
        self,
        status: int,
        message: str,
        headers: list[tuple[str, str]] | None = None,
        *,
        description: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = list(headers or [])
        self.description = description

    def answer(self) -> Answer:
        body = {"error": self.message}
        if self.description is not None:
            body["error_description"] = self.description
        return json_answer(body, self.status, self.headers)
