"""The API endpoints the fake server answers, each as the real server does (docs/mastodon.md)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from email.utils import collapse_rfc2231_value
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from dminbox.fake.content import MENTION_RE, URL_RE
from dminbox.fake.responses import Answer, HttpError, json_answer

if TYPE_CHECKING:
    from dminbox.fake.app import RecordedRequest
    from dminbox.fake.server import FakeMastodon
    from dminbox.fake.state import ConversationRow, StatusRecord

__all__ = ["Call", "Endpoints"]

INTEGER = re.compile(r"[+-]?\d+")
NOT_FOUND = {
    "mastodon": {"conversation": "Record not found", "status": "Record not found"},
    "gotosocial": {
        "conversation": "Not Found: conversation not found",
        "status": "Not Found: status not found",
    },
}
TEXT_LIMIT = {"mastodon": 500, "gotosocial": 5000}
# Mastodon counts every link as 23 characters, whatever its length.
URL_WEIGHT = 23
REPLY_NOT_FOUND = "The post you are trying to reply to does not appear to exist."
VISIBILITIES = ("public", "unlisted", "private", "direct")


@dataclass
class Call:
    """One routed request: who asks, and the parts of the path the route captured."""

    request: RecordedRequest
    owner_id: str
    path_params: dict[str, str] = field(default_factory=dict)


def _present(value: str | None) -> str | None:
    """Rails' `presence`: an empty parameter counts as absent."""
    return value if value not in (None, "") else None


class Endpoints:
    """Handlers: each takes a Call and returns an Answer or raises HttpError."""

    def __init__(self, server: FakeMastodon) -> None:
        self.server = server
        self.state = server.state
        self.render = server.renderer
        self._posted_by_key: dict[tuple[str, str], str] = {}

    def _not_found(self, what: str) -> HttpError:
        return HttpError(404, NOT_FOUND[self.server.flavour][what])

    # Accounts and instance

    def verify_credentials(self, call: Call) -> Answer:
        return json_answer(self.render.credential_account(self.state.accounts[call.owner_id]))

    def instance(self, call: Call) -> Answer:
        host = self.server.base_url.split("://", 1)[-1]
        version = "4.3.2" if self.server.flavour == "mastodon" else "0.17.3 git-fake"
        limit = TEXT_LIMIT[self.server.flavour]
        return json_answer(
            {
                "uri": host,
                "domain": host,
                "title": "dminbox fake",
                "version": version,
                "configuration": {"statuses": {"max_characters": limit}},
            }
        )

    # Conversations

    def list_conversations(self, call: Call) -> Answer:
        query = call.request.query
        raw_limit = _present(query.get("limit"))
        limit = self._limit(raw_limit)
        min_id = _present(query.get("min_id"))
        rows = self.state.page(
            call.owner_id,
            limit=limit,
            max_id=_present(query.get("max_id")),
            since_id=_present(query.get("since_id")),
            min_id=min_id,
        )
        if min_id is not None and self.server.flavour == "mastodon":
            rows.reverse()  # Mastodon flips the ascending min_id query back to newest first.
        link = self._link_header(rows, limit, raw_limit)
        return json_answer(
            [self.render.conversation(row) for row in rows],
            headers=[("Link", link)] if link else [],
        )

    def _limit(self, raw: str | None) -> int:
        if self.server.flavour == "gotosocial":
            if raw is None:
                return 40
            if not INTEGER.fullmatch(raw):
                raise HttpError(
                    400,
                    "Bad Request: error parsing limit: "
                    f'strconv.Atoi: parsing "{raw}": invalid syntax',
                )
            if not 1 <= int(raw) <= 80:
                raise HttpError(400, f"Bad Request: limit {raw} is outside the range 1 to 80")
            return int(raw)
        if raw is None:
            return 20
        if not INTEGER.fullmatch(raw) or int(raw) < 1:
            # Real Mastodon crashes on these (LIMIT 0 / a negative LIMIT reaches the database).
            raise HttpError(500, "Internal Server Error")
        return min(int(raw), 40)

    def _link_header(self, rows: list[ConversationRow], limit: int, raw_limit: str | None) -> str:
        dated = [row for row in rows if row.last_status_id]
        if not dated:
            return ""
        key = self.state.ids.cursor_key
        oldest = min(dated, key=lambda row: key(row.last_status_id or ""))
        newest = max(dated, key=lambda row: key(row.last_status_id or ""))
        reached_undated = len(dated) < len(rows)  # rows without a status are the list's end
        if self.server.flavour == "gotosocial":
            shown_limit: str | None = str(limit)
            has_next = not reached_undated
        else:
            shown_limit = raw_limit  # echoed verbatim, even when it was clamped
            has_next = len(rows) == limit and not reached_undated
        links = []
        if has_next:
            links.append((self._conversations_url(shown_limit, "max_id", oldest), "next"))
        links.append((self._conversations_url(shown_limit, "min_id", newest), "prev"))
        return ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links)

    def _conversations_url(self, limit: str | None, cursor: str, row: ConversationRow) -> str:
        params = ([("limit", limit)] if limit is not None else []) + [(cursor, row.last_status_id)]
        return f"{self.server.base_url}/api/v1/conversations?{urlencode(params)}"

    def _own_row(self, call: Call) -> ConversationRow:
        row = self.state.rows.get(call.path_params["id"])
        if row is None or row.owner_id != call.owner_id:
            raise self._not_found("conversation")
        return row

    def mark_read(self, call: Call) -> Answer:
        row = self._own_row(call)
        row.unread = False
        return json_answer(self.render.conversation(row))

    def mark_unread(self, call: Call) -> Answer:
        row = self._own_row(call)
        row.unread = True
        return json_answer(self.render.conversation(row))

    def delete_conversation(self, call: Call) -> Answer:
        self.state.forget_row(self._own_row(call))
        return json_answer({})

    # Statuses

    def _visible_status(self, call: Call) -> StatusRecord:
        status = self.state.statuses.get(call.path_params["id"])
        if status is None or not self.state.can_see(call.owner_id, status):
            raise self._not_found("status")
        return status

    def show_status(self, call: Call) -> Answer:
        return json_answer(self.render.status(self._visible_status(call)))

    def status_context(self, call: Call) -> Answer:
        ancestors, descendants = self.state.context(self._visible_status(call), call.owner_id)
        return json_answer(
            {
                "ancestors": [self.render.status(s) for s in ancestors],
                "descendants": [self.render.status(s) for s in descendants],
            }
        )

    def delete_status(self, call: Call) -> Answer:
        status = self._visible_status(call)
        if status.account_id != call.owner_id:
            raise HttpError(403, "This action is not allowed")
        rendered = self.render.status(status)
        self.state.delete_status(status.id)
        # Mastodon answers a delete with the source text, ready for "delete and redraft".
        rendered.pop("content")
        rendered["text"] = status.text
        return json_answer(rendered)

    def post_status(self, call: Call) -> Answer:
        params = {**call.request.query, **_form(call.request)}
        key = call.request.headers.get("idempotency-key")
        if key and (call.owner_id, key) in self._posted_by_key:
            earlier = self.state.statuses.get(self._posted_by_key[(call.owner_id, key)])
            if earlier is not None:
                return json_answer(self.render.status(earlier))
        text = str(params.get("status") or "")
        spoiler_text = str(params.get("spoiler_text") or "")
        visibility = str(params.get("visibility") or "public")
        if visibility not in VISIBILITIES:
            raise HttpError(422, "Validation failed: Visibility is not included in the list")
        reply_to = _present(str(params.get("in_reply_to_id") or ""))
        if reply_to is not None:
            parent = self.state.statuses.get(reply_to)
            if parent is None or not self.state.can_see(call.owner_id, parent):
                raise HttpError(404, REPLY_NOT_FOUND)
        if not text.strip():
            raise HttpError(422, "Validation failed: Text can't be blank")
        limit = TEXT_LIMIT[self.server.flavour]
        if _weighted_length(text) + len(spoiler_text) > limit:
            raise HttpError(422, f"Validation failed: Text character limit of {limit} exceeded")
        mentioned = []
        for match in MENTION_RE.finditer(text):
            account = self.state.find_account(match.group("username"), match.group("domain"))
            if account is not None and account.id != call.owner_id:
                mentioned.append(account.id)
        status = self.state.post(
            call.owner_id,
            text,
            mention_ids=mentioned,
            visibility=visibility,
            in_reply_to_id=reply_to,
            spoiler_text=spoiler_text,
            created_at=self.server.now(),
        )
        if key:
            self._posted_by_key[(call.owner_id, key)] = status.id
        return json_answer(self.render.status(status))


def _weighted_length(text: str) -> int:
    """The length Mastodon checks: links weigh 23, remote mentions count without the domain."""
    text = URL_RE.sub("x" * URL_WEIGHT, text)
    return len(MENTION_RE.sub(lambda match: "@" + match.group("username"), text))


def _form(request: RecordedRequest) -> dict[str, object]:
    """The body's parameters, whether sent as a form, as JSON or as multipart."""
    content_type = request.headers.get("content-type", "").lower()
    if not request.body:
        return {}
    if content_type.startswith("application/json"):
        try:
            loaded = json.loads(request.body)
        except ValueError as error:
            raise HttpError(400, "Error occurred while parsing request parameters") from error
        return loaded if isinstance(loaded, dict) else {}
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + request.body)
        form: dict[str, object] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, tuple):  # an RFC 2231 name (charset'language'value)
                name = collapse_rfc2231_value(name)
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                form[name] = payload.decode("utf-8", "replace")
        return form
    return dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
