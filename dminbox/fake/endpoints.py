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

from dminbox.fake.content import MENTION_RE
from dminbox.fake.counting import URL_WEIGHT, status_length
from dminbox.fake.directory import Directory
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
VERSION = {"mastodon": "4.3.2", "gotosocial": "0.17.3 git-fake"}
VERSION_BEFORE_V2 = "3.5.3"
"""What a Mastodon without /api/v2/instance (before 4.0) says it is."""
SOURCE_URL = {
    "mastodon": "https://github.com/mastodon/mastodon",
    "gotosocial": "https://codeberg.org/superseriousbusiness/gotosocial",
}
MAX_MEDIA = {"mastodon": 4, "gotosocial": 6}
REPLY_NOT_FOUND = "The post you are trying to reply to does not appear to exist."
VISIBILITIES = ("public", "unlisted", "private", "direct")


@dataclass
class Call:
    """One routed request: who asks, and the parts of the path the route captured."""

    request: RecordedRequest
    owner_id: str
    path_params: dict[str, str] = field(default_factory=dict)

    @property
    def signed_in(self) -> bool:
        """False for a request without a token on a route that answers anyone."""
        return bool(self.owner_id)


def _present(value: str | None) -> str | None:
    """Rails' `presence`: an empty parameter counts as absent."""
    return value if value not in (None, "") else None


class Endpoints:
    """Handlers: each takes a Call and returns an Answer or raises HttpError."""

    def __init__(self, server: FakeMastodon) -> None:
        self.server = server
        self.state = server.state
        self.render = server.renderer
        self.directory = Directory(server.state)
        self._posted_by_key: dict[tuple[str, str], str] = {}

    def _not_found(self, what: str) -> HttpError:
        return HttpError(404, NOT_FOUND[self.server.flavour][what])

    # Accounts and instance

    def verify_credentials(self, call: Call) -> Answer:
        return json_answer(self.render.credential_account(self.state.accounts[call.owner_id]))

    def _host_and_streaming(self) -> tuple[str, str]:
        """The instance's domain (host and port of the base URL) and its streaming URL.

        Real servers name their streaming API with wss:// (GoToSocial always does);
        the fake says ws:// when it is served over plain http, so a client can connect.
        """
        scheme, _, host = self.server.base_url.partition("://")
        return host, f"{'ws' if scheme == 'http' else 'wss'}://{host}"

    def _statuses_configuration(self) -> dict:
        flavour = self.server.flavour
        return {
            "max_characters": self.server.max_characters,
            "max_media_attachments": MAX_MEDIA[flavour],
            "characters_reserved_per_url": URL_WEIGHT[flavour],
        }

    def _version(self) -> str:
        if self.server.flavour == "mastodon" and not self.server.instance_v2:
            return VERSION_BEFORE_V2
        return VERSION[self.server.flavour]

    def instance_v2(self, call: Call) -> Answer:
        """GET /api/v2/instance (Mastodon 4.0+, GoToSocial): `domain`, `configuration.urls`."""
        if not self.server.instance_v2:
            raise HttpError(404, "Record not found")  # the route does not exist before 4.0
        host, streaming = self._host_and_streaming()
        base = self.server.base_url
        return json_answer(
            {
                "domain": host,
                "title": "dminbox fake",
                "version": self._version(),
                "source_url": SOURCE_URL[self.server.flavour],
                "description": "",
                "usage": {"users": {"active_month": len(self.state.accounts)}},
                "languages": ["en"],
                "configuration": {
                    "urls": {
                        "streaming": streaming,
                        "status": None,
                        "about": f"{base}/about",
                        "privacy_policy": f"{base}/privacy-policy",
                        "terms_of_service": None,
                    },
                    "statuses": self._statuses_configuration(),
                },
                "registrations": {"enabled": False, "approval_required": True, "message": None},
                "contact": {"email": "", "account": None},
                "rules": [],
            }
        )

    def instance_v1(self, call: Call) -> Answer:
        """GET /api/v1/instance (deprecated since Mastodon 4.0): `uri`, `urls.streaming_api`."""
        host, streaming = self._host_and_streaming()
        answer: dict[str, object] = {
            "uri": host,
            "title": "dminbox fake",
            "short_description": "",
            "description": "",
            "email": "",
            "version": self._version(),
            "urls": {"streaming_api": streaming},
            "stats": {
                "user_count": sum(1 for a in self.state.accounts.values() if a.domain is None),
                "status_count": len(self.state.statuses),
                "domain_count": len({a.domain for a in self.state.accounts.values() if a.domain}),
            },
            "languages": ["en"],
            "registrations": False,
            "approval_required": True,
            "invites_enabled": False,
            "configuration": {"statuses": self._statuses_configuration()},
            "contact_account": None,
            "rules": [],
        }
        headers: list[tuple[str, str]] = []
        if self.server.flavour == "gotosocial":
            answer["max_toot_chars"] = self.server.max_characters  # as Pleroma does
        elif self.server.instance_v2:
            headers.append(("Deprecation", "@1668384000"))  # Mastodon 4.0's release day
        return json_answer(answer, headers=headers)

    # Finding accounts (see fake/directory.py)

    def lookup_account(self, call: Call) -> Answer:
        account = self.directory.lookup(call.request.query.get("acct"))
        return json_answer(self.render.account(account))

    def search(self, call: Call) -> Answer:
        accounts = self.directory.search(call.request.query, signed_in=call.signed_in)
        return json_answer(
            {
                "accounts": [self.render.account(account) for account in accounts],
                "statuses": [],
                "hashtags": [],
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
        self.state.mark(row, unread=False)
        return json_answer(self.render.conversation(row))

    def mark_unread(self, call: Call) -> Answer:
        row = self._own_row(call)
        self.state.mark(row, unread=True)
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
        gotosocial = self.server.flavour == "gotosocial"
        if gotosocial:
            self._check_length(text, spoiler_text)  # GoToSocial checks the form first
        reply_to = _present(str(params.get("in_reply_to_id") or ""))
        if reply_to is not None:
            parent = self.state.statuses.get(reply_to)
            if parent is None or not self.state.can_see(call.owner_id, parent):
                raise HttpError(404, REPLY_NOT_FOUND)
        if not text.strip():
            raise HttpError(422, "Validation failed: Text can't be blank")
        if not gotosocial:
            self._check_length(text, spoiler_text)
        mentioned = []
        for match in MENTION_RE.finditer(text):
            # A mention of someone on another server that this one has not fetched yet
            # is looked up over WebFinger while posting, as both servers do.
            account = self.state.resolve(match.group("username"), match.group("domain"))
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

    def _check_length(self, text: str, spoiler_text: str) -> None:
        """The server's limit, counted its way (fake/counting.py)."""
        limit = self.server.max_characters
        length = status_length(self.server.flavour, text, spoiler_text)
        if length <= limit:
            return
        if self.server.flavour == "gotosocial":
            raise HttpError(
                400,
                f"Bad Request: status too long, {length} characters provided (including "
                f"spoiler/content warning) but limit is {limit}",
            )
        raise HttpError(422, f"Validation failed: Text character limit of {limit} exceeded")


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
