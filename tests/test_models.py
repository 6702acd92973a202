"""The models accept every real recording unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dminbox.models import Account, Context, Conversation, Status

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"


def _responses(name: str) -> list[tuple[str, str, dict]]:
    data = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))
    found = []
    for interaction in data["interactions"]:
        request, response = interaction["request"], interaction["response"]
        body = response["body"]["string"]
        found.append((request["method"], request["uri"], {**response, "body": body}))
    return found


def _json_bodies(name: str, path_part: str, method: str = "GET"):
    for verb, uri, response in _responses(name):
        if verb == method and path_part in uri and response["status"]["code"] == 200:
            yield json.loads(response["body"])


def test_every_conversation_page_in_the_recordings_parses() -> None:
    pages = [
        *list(_json_bodies("entity_test_entity_conversation.yaml", "/api/v1/conversations")),
        *list(_json_bodies("test_conversations.yaml", "/api/v1/conversations")),
    ]
    assert pages
    rows = [Conversation.model_validate(row) for page in pages for row in page]
    assert len(rows) == sum(len(page) for page in pages)
    assert sum(1 for row in rows if row.last_status is None) == 3
    assert all(row.accounts for row in rows)
    with_many = [row for row in rows if len(row.accounts) > 1]
    assert with_many, "the mastodon.social page has conversations with several participants"


def test_mark_read_answer_parses_as_a_read_conversation() -> None:
    (body,) = _json_bodies("test_conversations.yaml", "/read", method="POST")
    conversation = Conversation.model_validate(body)
    assert conversation.unread is False
    assert conversation.last_status is not None
    assert conversation.last_status.visibility == "direct"


def test_context_and_posted_statuses_parse() -> None:
    (context,) = _json_bodies("test_status_context.yaml", "/context")
    assert Context.model_validate(context).ancestors == []
    posted = list(_json_bodies("test_status_post_direct.yaml", "/api/v1/statuses", "POST"))
    assert posted
    for body in posted:
        status = Status.model_validate(body)
        assert status.account.acct


def test_verify_credentials_parses_as_an_account() -> None:
    (body,) = _json_bodies("test_conversations.yaml", "verify_credentials")
    account = Account.model_validate(body)
    assert account.acct == "admin"
    assert account.label == "admin", "an empty display name falls back to the acct"


@pytest.mark.parametrize(
    "extra",
    [{"brand_new_field": {"nested": [1, 2]}}, {"emoji_reactions": []}],
)
def test_unknown_fields_are_ignored(extra: dict) -> None:
    row = {"id": "1", "unread": True, "accounts": [], "last_status": None, **extra}
    assert Conversation.model_validate(row).id == "1"


def test_stream_events_hold_conversations() -> None:
    (response,) = [r for _, uri, r in _responses("test_stream_direct.yaml") if "streaming" in uri]
    events = [
        line.removeprefix("data:").strip()
        for line in response["body"].splitlines()
        if line.startswith("data:")
    ]
    assert events
    for event in events:
        Conversation.model_validate_json(event)


def test_stored_rows_build_the_same_entities_as_validation() -> None:
    pages = list(_json_bodies("test_conversations.yaml", "/api/v1/conversations"))
    rows = [row for page in pages for row in page]
    assert rows
    for row in rows:
        validated = Conversation.model_validate(row)
        assert Conversation.from_stored(row) == validated
        assert Conversation.from_stored(validated.model_dump()) == validated


@pytest.mark.parametrize(
    "row",
    [
        {"id": "1", "last_status": {"id": "2"}},
        {"id": "1", "accounts": [7]},
        {"unread": True},
        {"id": "1", "last_status": {"id": "2", "created_at": "soon", "account": {"id": "3"}}},
    ],
)
def test_a_stored_row_that_no_longer_fits_is_a_value_error(row: dict) -> None:
    with pytest.raises(ValueError):
        Conversation.from_stored(row)


def test_the_models_import_without_pydantic() -> None:
    import subprocess
    import sys

    code = "import sys, dminbox.models; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
