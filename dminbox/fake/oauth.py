"""The fake server's OAuth: app registration, the out-of-band code page, token and revoke.

It answers as Mastodon's Doorkeeper does (docs/mastodon.md, "Logging in"): JSON
errors `{"error": ..., "error_description": ...}`, a code that works once and
for ten minutes, revoke answering `{}` even for unknown tokens. The browser
step is skipped: GET /oauth/authorize approves at once for the signed-in
account (`me` unless `sign_in` chose another) and shows the code in
`<input class="oauth-code" value="...">`, as Mastodon's page does. Tests that
need no HTML call `FakeMastodon.issue_code`.
"""

from __future__ import annotations

import base64
import html
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from dminbox.fake.endpoints import Call, Endpoints, _form
from dminbox.fake.responses import Answer, HttpError, json_answer

if TYPE_CHECKING:
    from dminbox.fake.server import FakeMastodon

__all__ = ["OOB", "SCOPES", "Grant", "OAuthApp", "OAuthState"]

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)  # Mastodon's authorization_code_expires_in
HTML_TYPE = "text/html; charset=utf-8"
_READABLE: tuple[str, ...] = ("accounts", "blocks", "bookmarks", "favourites", "filters")
_READABLE += ("follows", "lists", "mutes", "notifications", "search", "statuses")
_WRITABLE: tuple[str, ...] = ("accounts", "blocks", "bookmarks", "conversations", "favourites")
_WRITABLE += ("filters", "follows", "lists", "media", "mutes", "notifications", "reports")
_WRITABLE += ("statuses",)
SCOPES = frozenset(
    ("read", "write", "follow", "push", "profile")
    + tuple(f"read:{name}" for name in _READABLE)
    + tuple(f"write:{name}" for name in _WRITABLE)
)
"""The scopes Mastodon knows (admin scopes left out)."""

INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)
INVALID_CLIENT = (
    "Client authentication failed due to unknown client, no client authentication included, "
    "or unsupported authentication method."
)
INVALID_SCOPE = "The requested scope is invalid, unknown, or malformed."
INVALID_REQUEST = (
    "The request is missing a required parameter, includes an unsupported parameter value, "
    "or is otherwise malformed."
)
UNSUPPORTED_GRANT = "The authorization grant type is not supported by the authorization server."
INVALID_REDIRECT = "The requested redirect uri is malformed or doesn't match client redirect URI."
CANNOT_REVOKE = "You are not authorized to revoke this token"


@dataclass
class OAuthApp:
    id: str
    name: str
    website: str | None
    redirect_uris: list[str]
    scopes: list[str]
    client_id: str
    client_secret: str = field(repr=False)


@dataclass
class Grant:
    """An authorization code: works once, for one app, before `expires_at`."""

    client_id: str
    owner_id: str
    scopes: list[str]
    redirect_uri: str
    expires_at: datetime
    used: bool = False


class OAuthState:
    """Registered apps and open codes; `FakeMastodon.oauth` holds one."""

    def __init__(self, server: FakeMastodon) -> None:
        self.server = server
        self.apps: dict[str, OAuthApp] = {}
        self.grants: dict[str, Grant] = {}
        self.signed_in_id: str | None = None
        """Who approves in the "browser" (GET /oauth/authorize); None means `me`."""

    def register(
        self,
        name: str,
        redirect_uris: list[str],
        scopes: list[str],
        website: str | None = None,
    ) -> OAuthApp:
        app = OAuthApp(
            id=str(len(self.apps) + 563419),
            name=name,
            website=website,
            redirect_uris=redirect_uris,
            scopes=scopes,
            client_id=_secret(),
            client_secret=_secret(),
        )
        self.apps[app.client_id] = app
        return app

    def issue_code(
        self,
        client_id: str,
        scopes: list[str],
        owner_id: str,
        *,
        redirect_uri: str = OOB,
        expires_in: timedelta = CODE_LIFETIME,
    ) -> str:
        code = _secret()
        self.grants[code] = Grant(
            client_id, owner_id, list(scopes), redirect_uri, self.server.wall_clock() + expires_in
        )
        return code

    def take_grant(self, code: str, app: OAuthApp, redirect_uri: str) -> Grant | None:
        """The grant behind a code if it is valid for this app; it is then used up."""
        grant = self.grants.get(code)
        if (
            grant is None
            or grant.used
            or grant.client_id != app.client_id
            or grant.redirect_uri != redirect_uri
            or grant.expires_at <= self.server.wall_clock()
        ):
            return None
        grant.used = True
        return grant


def _secret() -> str:
    """A 43-character url-safe secret, the shape of Doorkeeper's ids, secrets and codes."""
    return secrets.token_urlsafe(32)


def _params(call: Call) -> dict[str, object]:
    return {**call.request.query, **_form(call.request)}


def _text(params: dict[str, object], name: str) -> str:
    value = params.get(name)
    return value.strip() if isinstance(value, str) else ""


def _scope_list(raw: str) -> list[str]:
    return raw.replace("+", " ").split()


def _redirect_uris(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    if isinstance(value, str):
        return value.split()
    return []


def _client(oauth: OAuthState, call: Call, params: dict[str, object]) -> OAuthApp | None:
    """The app whose id and secret the request carries (form fields or HTTP Basic)."""
    client_id, client_secret = _text(params, "client_id"), _text(params, "client_secret")
    scheme, _, encoded = call.request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return None
    app = oauth.apps.get(client_id)
    if app is None or not secrets.compare_digest(app.client_secret, client_secret):
        return None
    return app


# -- handlers (routed in app.py; each takes the Endpoints and the Call) -------------


def create_app(endpoints: Endpoints, call: Call) -> Answer:
    """POST /api/v1/apps"""
    params = _params(call)
    name = _text(params, "client_name")
    redirect_uris = _redirect_uris(params.get("redirect_uris"))
    scopes = _scope_list(_text(params, "scopes") or "read")
    if not name:
        raise HttpError(422, "Validation failed: Application name can't be blank")
    if not redirect_uris:
        raise HttpError(422, "Validation failed: Redirect URI can't be blank")
    if any(uri != OOB and "://" not in uri for uri in redirect_uris):
        raise HttpError(422, "Validation failed: Redirect URI must be an absolute URI.")
    if not set(scopes) <= SCOPES:
        raise HttpError(422, "Validation failed: Scopes doesn't match configured on the server.")
    website = _text(params, "website") or None
    app = endpoints.server.oauth.register(name, redirect_uris, scopes, website)
    body: dict[str, object] = {
        "id": app.id,
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes,
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": app.redirect_uris,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "client_secret_expires_at": 0,
    }
    if endpoints.server.flavour == "gotosocial":
        body = {k: v for k, v in body.items() if k not in ("redirect_uris", "scopes")}
    return json_answer(body)


def authorize(endpoints: Endpoints, call: Call) -> Answer:
    """GET /oauth/authorize: approve at once and show the code, as the oob page does."""
    query = call.request.query
    oauth = endpoints.server.oauth
    app = oauth.apps.get(query.get("client_id", ""))
    redirect_uri = query.get("redirect_uri", "")
    scopes = _scope_list(query.get("scope", "") or "read")
    if app is None:
        return _page(401, "invalid_client", INVALID_CLIENT)
    if redirect_uri not in app.redirect_uris:
        return _page(400, "invalid_redirect_uri", INVALID_REDIRECT)
    if query.get("response_type") != "code":
        return _page(400, "unsupported_response_type", "The response type is not supported.")
    if not set(scopes) <= set(app.scopes):
        return _page(400, "invalid_scope", INVALID_SCOPE)
    owner_id = oauth.signed_in_id or endpoints.server.me["id"]
    code = oauth.issue_code(app.client_id, scopes, owner_id, redirect_uri=redirect_uri)
    who = html.escape(endpoints.state.accounts[owner_id].acct)
    body = (
        "<!DOCTYPE html>\n<html><head><title>Authorization required</title></head><body>\n"
        f"<p>{html.escape(app.name)} may now act for @{who}. "
        "Copy this authorization code and paste it into the application.</p>\n"
        f'<input class="oauth-code" readonly type="text" value="{html.escape(code)}">\n'
        "</body></html>\n"
    )
    return Answer(200, body.encode(), HTML_TYPE)


def _page(status: int, error: str, description: str) -> Answer:
    body = (
        "<!DOCTYPE html>\n<html><head><title>An error has occurred</title></head><body>\n"
        f'<div class="form-container"><h2>{error}</h2><p>{html.escape(description)}</p></div>\n'
        "</body></html>\n"
    )
    return Answer(status, body.encode(), HTML_TYPE)


def token(endpoints: Endpoints, call: Call) -> Answer:
    """POST /oauth/token, for grant_type=authorization_code."""
    params = _params(call)
    grant_type = _text(params, "grant_type")
    if not grant_type:
        raise HttpError(400, "invalid_request", description=INVALID_REQUEST)
    if grant_type != "authorization_code":
        raise HttpError(400, "unsupported_grant_type", description=UNSUPPORTED_GRANT)
    app = _client(endpoints.server.oauth, call, params)
    if app is None:
        raise HttpError(401, "invalid_client", description=INVALID_CLIENT)
    code = _text(params, "code")
    if not code:
        raise HttpError(400, "invalid_request", description=INVALID_REQUEST)
    server = endpoints.server
    grant = server.oauth.take_grant(code, app, _text(params, "redirect_uri"))
    if grant is None:
        raise HttpError(400, "invalid_grant", description=INVALID_GRANT)
    asked = _scope_list(_text(params, "scope"))
    if asked and set(asked) != set(grant.scopes):
        raise HttpError(400, "invalid_scope", description=INVALID_SCOPE)
    access_token = _secret()
    server.add_token(
        access_token,
        set(grant.scopes),
        owner=server.account(grant.owner_id),
        client_id=app.client_id,
    )
    return json_answer(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
            "created_at": int(datetime.now(UTC).timestamp()),
        }
    )


def revoke(endpoints: Endpoints, call: Call) -> Answer:
    """POST /oauth/revoke: `{}` when revoked or unknown; 403 for another app's token."""
    params = _params(call)
    app = _client(endpoints.server.oauth, call, params)
    if app is None:
        raise HttpError(403, "unauthorized_client", description=CANNOT_REVOKE)
    server = endpoints.server
    access = server.tokens.get(_text(params, "token"))
    if access is not None:
        if access.client_id is not None and access.client_id != app.client_id:
            raise HttpError(403, "unauthorized_client", description=CANNOT_REVOKE)
        access.revoked = True
        server.stream.token_revoked(_text(params, "token"))
    return json_answer({})
