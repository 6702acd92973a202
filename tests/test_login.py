"""`dminbox login` and `logout` end to end against the fake server: no network, no browser."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import ssl
import stat
import subprocess
import sys
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from dminbox import account_commands, accounts
from dminbox.accounts import AppRegistration
from dminbox.cli import build_parser
from dminbox.errors import ConfigError, LoginError
from dminbox.fake import FakeMastodon
from dminbox.oauth import (
    OOB,
    SCOPES,
    Target,
    exchange_code,
    http_client,
    parse_instance,
    register_app,
    verify_credentials,
)

HOST = "fake.dminbox.invalid"
ORIGIN = f"https://{HOST}"


def args(*argv: str):
    return build_parser().parse_args(list(argv))


def approve(server: FakeMastodon, owner: dict | None = None):
    """A read_code that does what the user does: allow in the browser, paste the code."""
    shown: list[str] = []

    def read_code(url: str) -> str:
        shown.append(url)
        query = parse_qs(urlsplit(url).query)
        return "  " + server.issue_code(query["client_id"][0], query["scope"][0], owner=owner)

    read_code.shown = shown  # type: ignore[attr-defined]
    return read_code


def log_in(server: FakeMastodon, typed: str = f"@me@{HOST}", owner: dict | None = None) -> int:
    return account_commands.run(
        args("login", typed), transport=server.transport(), read_code=approve(server, owner)
    )


def stored() -> dict:
    return json.loads(accounts.accounts_file().read_text())


def paths_of(server: FakeMastodon) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.requests]


# Logging in


def test_login_stores_the_account_in_one_private_file(tmp_path, capsys):
    server = FakeMastodon()
    read_code = approve(server)
    code = account_commands.run(
        args("login", f"@me@{HOST}"), transport=server.transport(), read_code=read_code
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert paths_of(server) == [
        "POST /api/v1/apps",
        "POST /oauth/token",
        "GET /api/v1/accounts/verify_credentials",
    ]
    # The app asked only for the narrow scopes, with the out-of-band redirect.
    registration = parse_qs(server.requests[0].body.decode())
    assert registration["scopes"] == [SCOPES]
    assert registration["redirect_uris"] == [OOB]
    assert registration["client_name"] == ["dminbox"]
    url = read_code.shown[0]
    assert url in out and "\x1b]8;;" not in out  # no hyperlink escape when not a tty
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{ORIGIN}/oauth/authorize?")
    assert query["scope"] == [SCOPES] and query["redirect_uri"] == [OOB]
    assert query["response_type"] == ["code"] and "force_login" not in query

    data = stored()
    assert data["version"] == 1 and data["last_used"] == f"me@{HOST}"
    [row] = data["accounts"]
    token = row["token"]
    assert row["acct"] == f"me@{HOST}" and row["instance"] == ORIGIN
    assert row["account_id"] == server.me["id"]
    assert set(data["apps"]) == {ORIGIN}
    # The token is a real token of the server, with only the scopes asked for.
    granted = server.tokens[token]
    assert granted.scopes == frozenset(SCOPES.split()) and granted.owner_id == server.me["id"]
    assert f"Logged in as me@{HOST}" in out
    assert token not in out + err

    path = accounts.accounts_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    holders = [p for p in tmp_path.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    assert holders == [path]
    assert not list(path.parent.glob(".accounts-*.tmp"))


def test_the_token_works_with_the_api_afterwards():
    server = FakeMastodon()
    assert log_in(server) == 0
    me = accounts.resolve_account(None)
    assert me is not None and me.acct == f"me@{HOST}" and me.token not in repr(me)
    transport = server.transport()

    async def check() -> int:
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as http:
            response = await http.get(
                "/api/v1/conversations", headers={"Authorization": f"Bearer {me.token}"}
            )
            return response.status_code

    import asyncio

    assert asyncio.run(check()) == 200


def test_a_second_login_reuses_the_app_registration_and_adds_an_account(capsys):
    server = FakeMastodon()
    alice = server.add_account("alice", "Alice")
    assert log_in(server) == 0
    read_code = approve(server, owner=alice)
    code = account_commands.run(
        args("login", f"https://{HOST}/"), transport=server.transport(), read_code=read_code
    )
    assert code == 0, capsys.readouterr().err
    assert paths_of(server).count("POST /api/v1/apps") == 1
    assert len(server.oauth.apps) == 1
    # A second account on the same instance: the server is asked to show its login form.
    assert parse_qs(urlsplit(read_code.shown[0]).query)["force_login"] == ["true"]
    data = stored()
    assert [row["acct"] for row in data["accounts"]] == [f"me@{HOST}", f"alice@{HOST}"]
    assert data["last_used"] == f"alice@{HOST}"
    assert accounts.resolve_account(None).acct == f"alice@{HOST}"


def test_logging_in_again_replaces_the_token_and_revokes_the_old_one():
    server = FakeMastodon()
    assert log_in(server) == 0
    old = stored()["accounts"][0]["token"]
    assert log_in(server, HOST) == 0
    [row] = stored()["accounts"]
    assert row["token"] != old
    assert server.tokens[old].revoked and not server.tokens[row["token"]].revoked


def test_a_vacuumed_registration_is_noticed_and_replaced():
    server = FakeMastodon()
    assert log_in(server) == 0
    first = stored()["apps"][ORIGIN]["client_id"]
    server.forget_app(first)  # Mastodon before 4.3 deleted apps without tokens
    assert log_in(server, HOST) == 0
    assert stored()["apps"][ORIGIN]["client_id"] != first
    assert paths_of(server).count("POST /api/v1/apps") == 2


def test_a_registration_lost_before_the_code_is_traded_is_forgotten(capsys):
    server = FakeMastodon()

    def read_code(url: str) -> str:
        client_id = parse_qs(urlsplit(url).query)["client_id"][0]
        code = server.issue_code(client_id, SCOPES)
        server.forget_app(client_id)
        return code

    code = account_commands.run(
        args("login", HOST), transport=server.transport(), read_code=read_code
    )
    err = capsys.readouterr().err
    assert code == 1
    assert (
        err
        == f"dminbox: {HOST} no longer knows dminbox's app registration: run dminbox login again\n"
    )
    assert stored()["apps"] == {} and stored()["accounts"] == []


def test_the_code_is_read_from_stdin_with_the_prompt_on_stderr(monkeypatch, capsys):
    server = FakeMastodon()
    app = server.register_app(scopes=SCOPES)
    accounts.save_app_registration(
        AppRegistration(ORIGIN, app.client_id, app.client_secret, SCOPES)
    )
    code = server.issue_code(app.client_id, SCOPES)
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"   {code} \n"))
    result = account_commands.run(args("login", HOST), transport=server.transport())
    out, err = capsys.readouterr()
    assert result == 0, err
    assert err == "Code: "
    assert "POST /api/v1/apps" not in paths_of(server)  # the stored registration was used
    assert stored()["accounts"][0]["acct"] == f"me@{HOST}"


@pytest.mark.parametrize("stop", [EOFError, KeyboardInterrupt])
def test_no_code_at_the_prompt_is_one_line_and_exit_1(stop, capsys):
    server = FakeMastodon()

    def read_code(url: str) -> str:
        raise stop()

    code = account_commands.run(
        args("login", HOST), transport=server.transport(), read_code=read_code
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("dminbox: ")
    assert stored()["accounts"] == []


# Codes the server does not accept


@pytest.mark.parametrize("pasted", ["wrong-code", "expired"])
def test_a_wrong_or_expired_code_is_one_line_and_exit_1(pasted, capsys):
    server = FakeMastodon()

    def read_code(url: str) -> str:
        if pasted == "expired":
            client_id = parse_qs(urlsplit(url).query)["client_id"][0]
            return server.issue_code(client_id, SCOPES, expires_in=timedelta(seconds=-1))
        return pasted

    code = account_commands.run(
        args("login", HOST), transport=server.transport(), read_code=read_code
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        "dminbox: the code was not accepted (wrong or expired): run dminbox login again\n"
    )
    assert stored()["accounts"] == []
    assert ORIGIN in stored()["apps"]  # kept for the next try


def test_a_used_code_cannot_be_traded_twice():
    server = FakeMastodon()
    codes: list[str] = []

    def read_code(url: str) -> str:
        query = parse_qs(urlsplit(url).query)
        if not codes:
            codes.append(server.issue_code(query["client_id"][0], SCOPES))
        return codes[0]

    assert (
        account_commands.run(args("login", HOST), transport=server.transport(), read_code=read_code)
        == 0
    )
    assert (
        account_commands.run(args("login", HOST), transport=server.transport(), read_code=read_code)
        == 1
    )


# The instance as typed


@pytest.mark.parametrize(
    ("typed", "instance", "username"),
    [
        ("mastodon.social", "https://mastodon.social", None),
        ("  https://mastodon.social/ ", "https://mastodon.social", None),
        ("@user@mastodon.social", "https://mastodon.social", "user"),
        ("user@Mastodon.Social", "https://mastodon.social", "user"),
        ("https://mastodon.social/@user", "https://mastodon.social", "user"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000", None),
        ("bücher.example", "https://xn--bcher-kva.example", None),
    ],
)
def test_instance_forms(typed, instance, username):
    assert parse_instance(typed) == Target(instance, username)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "@user@",
        "@us er@mastodon.social",
        "http://mastodon.social",
        "ftp://mastodon.social",
        "https://mastodon.social/about",
        "mastodon.social?x=1",
        "mastodon\x1b[31m.social",
    ],
)
def test_instances_that_cannot_be_are_refused(typed):
    with pytest.raises(ConfigError):
        parse_instance(typed)


def test_a_bad_instance_is_a_usage_error_exit_2(capsys):
    assert account_commands.run(args("login", "http://mastodon.social")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "clear text" in err


# Servers that fail


def failing(error: type[Exception], cause: BaseException):
    def handler(request: httpx.Request) -> httpx.Response:
        try:
            raise cause
        except BaseException as inner:
            raise error(str(cause), request=request) from inner

    return httpx.MockTransport(handler)


def expired_certificate() -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired"
    )
    error.verify_message = "certificate has expired"
    error.verify_code = 10
    return error


def answering(status: int, body: bytes, content_type: str, **headers: str):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, content=body, headers={"content-type": content_type, **headers}
        )

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("transport", "message"),
    [
        (
            failing(httpx.ConnectError, socket.gaierror(-2, "Name or service not known")),
            "Cannot find x.example: check the spelling and your connection.",
        ),
        (
            failing(httpx.ConnectError, expired_certificate()),
            "TLS failed with x.example: certificate has expired.",
        ),
        (
            failing(httpx.ConnectError, ConnectionRefusedError(111, "refused")),
            "x.example refused the connection: check the address and port.",
        ),
        (
            failing(httpx.ConnectTimeout, TimeoutError()),
            "x.example did not answer in time.",
        ),
        (
            answering(200, b"<html><body>Welcome</body></html>", "text/html"),
            "x.example does not look like a Mastodon server",
        ),
        (
            answering(404, b"<html>Not Found</html>", "text/html"),
            "x.example does not look like a Mastodon server",
        ),
        (
            answering(200, b'{"hello": "world"}', "application/json"),
            "x.example does not look like a Mastodon server",
        ),
        (
            answering(
                422,
                b'{"error": "Validation failed: Registrations are closed\\u001b[2J"}',
                "application/json",
            ),
            "x.example refused to register dminbox: Validation failed: Registrations are closed",
        ),
        (
            answering(301, b"", "text/html", location="https://social.x.example/api/v1/apps"),
            "x.example sends dminbox to social.x.example: try `dminbox login social.x.example`",
        ),
        (
            answering(503, b"<html>busy</html>", "text/html"),
            "x.example had a problem, HTTP 503 (an error page, not the API).",
        ),
    ],
)
def test_login_failures_are_one_line_and_exit_1(transport, message, capsys):
    def read_code(url: str) -> str:
        raise AssertionError("no code should be asked for")

    code = account_commands.run(
        args("login", "@me@x.example"), transport=transport, read_code=read_code
    )
    out, err = capsys.readouterr()
    assert (code, err) == (1, f"dminbox: {message}\n")
    assert "Traceback" not in out + err
    assert not accounts.accounts_file().exists()


def test_a_token_the_server_refuses_at_once_is_revoked_and_not_stored(capsys):
    server = FakeMastodon()
    from dminbox.fake import Fault

    server.faults.add(Fault(path="/api/v1/accounts/verify_credentials", status=503))
    assert log_in(server) == 1
    assert "had a problem, HTTP 503" in capsys.readouterr().err
    assert stored()["accounts"] == []
    assert [t for t in server.tokens.values() if t.client_id] and all(
        t.revoked for t in server.tokens.values() if t.client_id
    )


def test_the_url_is_a_terminal_hyperlink_only_on_a_tty():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    url = f"{ORIGIN}/oauth/authorize?client_id=abc"
    screen, pipe = Tty(), io.StringIO()
    account_commands._show_authorize_url(url, Target(ORIGIN), screen)
    account_commands._show_authorize_url(url, Target(ORIGIN), pipe)
    assert f"\x1b]8;;{url}\x1b\\{url}\x1b]8;;\x1b\\" in screen.getvalue()
    assert "\x1b" not in pipe.getvalue() and url in pipe.getvalue()


# The flow's pieces against the fake's HTML page


async def test_the_authorize_page_shows_a_code_that_trades_for_a_token():
    server = FakeMastodon()
    alice = server.add_account("alice", "Alice")
    server.sign_in(alice)
    target = Target(ORIGIN, "alice")
    async with http_client(server.transport()) as http:
        app = await register_app(http, target)
        from dminbox.oauth import authorize_url

        page = await http.get(authorize_url(target, app))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        code = re.search(r'class="oauth-code"[^>]*value="([^"]+)"', page.text).group(1)
        grant = await exchange_code(http, target, app, code)
        account = await verify_credentials(http, target, grant.access_token)
        assert account.username == "alice" and grant.scopes == SCOPES
        again = await http.post(
            f"{ORIGIN}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "redirect_uri": OOB,
            },
        )
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"
        assert again.json()["error_description"].startswith(
            "The provided authorization grant is invalid, expired, revoked"
        )
        unknown = await http.post(
            f"{ORIGIN}/oauth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": "nope"},
        )
        assert (unknown.status_code, unknown.json()["error"]) == (401, "invalid_client")
        bad_page = await http.get(f"{ORIGIN}/oauth/authorize?client_id=nope")
        assert bad_page.status_code == 401 and "invalid_client" in bad_page.text
        with pytest.raises(LoginError, match="not accepted"):
            await exchange_code(http, target, app, "nonsense")


async def test_revoke_answers_empty_also_for_unknown_tokens():
    server = FakeMastodon()
    app = server.register_app(scopes=SCOPES)
    other = server.register_app(scopes=SCOPES)
    server.add_token("theirs", {"read"}, client_id=other.client_id)
    own = {"client_id": app.client_id, "client_secret": app.client_secret}
    async with http_client(server.transport()) as http:
        unknown = await http.post(f"{ORIGIN}/oauth/revoke", data={**own, "token": "nope"})
        foreign = await http.post(f"{ORIGIN}/oauth/revoke", data={**own, "token": "theirs"})
        anonymous = await http.post(f"{ORIGIN}/oauth/revoke", data={"token": "theirs"})
    assert (unknown.status_code, unknown.json()) == (200, {})
    assert (foreign.status_code, foreign.json()["error"]) == (403, "unauthorized_client")
    assert anonymous.status_code == 403
    assert not server.tokens["theirs"].revoked


# Logging out


@pytest.fixture
def cache_calls(monkeypatch) -> list[tuple[str, str]]:
    """A stand-in for dminbox.store, recording what logout asks it to delete."""
    calls: list[tuple[str, str]] = []
    module = types.ModuleType("dminbox.store")

    def delete_account_cache(instance: str, account_id: str) -> bool:
        calls.append((instance, account_id))
        return True

    module.delete_account_cache = delete_account_cache  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "dminbox.store", module)
    return calls


def test_logout_revokes_the_token_and_forgets_the_account_and_its_cache(
    cache_calls, tmp_path, capsys
):
    server = FakeMastodon()
    assert log_in(server) == 0
    token = stored()["accounts"][0]["token"]
    capsys.readouterr()
    assert account_commands.run(args("logout"), transport=server.transport()) == 0
    out, err = capsys.readouterr()
    assert err == "" and f"Logged out of me@{HOST}; the token is revoked." in out
    assert paths_of(server)[-1] == "POST /oauth/revoke"
    assert server.tokens[token].revoked
    assert cache_calls == [(ORIGIN, server.me["id"])]
    assert stored()["accounts"] == [] and stored()["last_used"] is None
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]

    async def use_revoked() -> httpx.Response:
        async with httpx.AsyncClient(transport=server.transport(), base_url=ORIGIN) as http:
            return await http.get(
                "/api/v1/conversations", headers={"Authorization": f"Bearer {token}"}
            )

    import asyncio

    response = asyncio.run(use_revoked())
    assert (response.status_code, response.json()) == (
        401,
        {"error": "The access token was revoked"},
    )
    assert accounts.resolve_account(None) is None


def test_logout_of_a_named_account_moves_the_default(cache_calls, capsys):
    server = FakeMastodon()
    alice = server.add_account("alice", "Alice")
    assert log_in(server) == 0
    assert log_in(server, HOST, owner=alice) == 0
    capsys.readouterr()
    code = account_commands.run(args("logout", f"@Alice@{HOST}"), transport=server.transport())
    out, _ = capsys.readouterr()
    assert code == 0
    assert f"The default account is now me@{HOST}." in out
    assert [row["acct"] for row in stored()["accounts"]] == [f"me@{HOST}"]
    assert cache_calls == [(ORIGIN, alice["id"])]


def test_logout_works_without_a_cache_module(monkeypatch):
    server = FakeMastodon()
    assert log_in(server) == 0
    monkeypatch.setitem(sys.modules, "dminbox.store", None)  # import raises ImportError
    assert account_commands.run(args("logout"), transport=server.transport()) == 0
    assert stored()["accounts"] == []


def test_logout_when_the_server_is_gone_keeps_the_account_until_told(cache_calls, capsys):
    server = FakeMastodon()
    assert log_in(server) == 0
    capsys.readouterr()
    gone = failing(httpx.ConnectError, socket.gaierror(-2, "Name or service not known"))
    assert account_commands.run(args("logout"), transport=gone) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"dminbox: Cannot find {HOST}: check") and "--forget-only" in err
    assert len(stored()["accounts"]) == 1 and cache_calls == []
    assert account_commands.run(args("logout", "--forget-only"), transport=gone) == 0
    assert "not revoked" in capsys.readouterr().out
    assert stored()["accounts"] == [] and cache_calls == [(ORIGIN, server.me["id"])]


def test_logout_of_an_unknown_account_or_of_nobody(capsys):
    assert account_commands.run(args("logout")) == 1
    assert capsys.readouterr().err == "dminbox: no account is logged in\n"
    server = FakeMastodon()
    assert log_in(server) == 0
    capsys.readouterr()
    assert account_commands.run(args("logout", "bob@elsewhere.example")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no account 'bob@elsewhere.example'" in err


def test_the_login_modules_do_not_import_textual():
    code = (
        "import sys, dminbox.account_commands, dminbox.oauth, dminbox.accounts\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_files_stay_private_even_with_a_loose_umask(tmp_path):
    old = os.umask(0)
    try:
        assert log_in(FakeMastodon()) == 0
    finally:
        os.umask(old)
    path = accounts.accounts_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in Path(path.parent).iterdir())


# The login and the inbox read the same for the same failure


def _failing_with(error: type[httpx.TransportError], cause: BaseException | None):
    def handler(request: httpx.Request) -> httpx.Response:
        if cause is None:
            raise error("failed", request=request)
        try:
            raise cause
        except BaseException as inner:
            raise error(str(cause), request=request) from inner

    return httpx.MockTransport(handler)


def _handshake_failure() -> ssl.SSLError:
    error = ssl.SSLError(1, "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version")
    error.reason = "TLSV1_ALERT_PROTOCOL_VERSION"
    return error


async def _both(transport: httpx.AsyncBaseTransport, instance: str = "https://x.example"):
    """What the inbox's client and the login raise over the same transport."""
    from dminbox.client import MastodonClient
    from dminbox.errors import ApiError

    async with MastodonClient(instance, "t", transport=transport) as client:
        with pytest.raises(ApiError) as in_inbox:
            await client.conversations()
    async with http_client(transport) as http:
        with pytest.raises(LoginError) as in_login:
            await register_app(http, Target(instance))
    return in_inbox.value, in_login.value


@pytest.mark.parametrize(
    ("transport", "message"),
    [
        (
            _failing_with(httpx.ConnectError, expired_certificate()),
            "TLS failed with x.example: certificate has expired.",
        ),
        (
            _failing_with(httpx.ConnectError, _handshake_failure()),
            "TLS failed with x.example: tlsv1 alert protocol version.",
        ),
        (
            _failing_with(httpx.ConnectError, ConnectionRefusedError(111, "Connection refused")),
            "x.example refused the connection: check the address and port.",
        ),
        (
            _failing_with(httpx.ConnectError, socket.gaierror(-2, "Name or service not known")),
            "Cannot find x.example: check the spelling and your connection.",
        ),
        (_failing_with(httpx.ConnectTimeout, TimeoutError()), "x.example did not answer in time."),
        (_failing_with(httpx.ReadTimeout, None), "x.example did not answer in time."),
        (_failing_with(httpx.RemoteProtocolError, None), "x.example dropped the connection."),
        (
            answering(503, b"<html>busy</html>", "text/html"),
            "x.example had a problem, HTTP 503 (an error page, not the API).",
        ),
        (
            answering(
                429,
                b'{"error": "Too many requests"}',
                "application/json",
                **{"X-RateLimit-Reset": "2099-01-01T00:00:00Z"},
            ),
            "Rate limited by x.example until "
            + f"{datetime(2099, 1, 1, tzinfo=UTC).astimezone():%Y-%m-%d %H:%M:%S}.",
        ),
    ],
    ids=[
        "tls-certificate",
        "tls-handshake",
        "refused",
        "dns",
        "connect-timeout",
        "read-timeout",
        "drop",
        "503",
        "429",
    ],
)
async def test_login_and_inbox_read_the_same_for_the_same_failure(transport, message):
    in_inbox, in_login = await _both(transport)
    assert str(in_inbox) == str(in_login) == message
    assert in_login.transient is in_inbox.transient is True
    assert type(in_login.__cause__) is type(in_inbox)


async def test_tls_to_a_plain_http_port_reads_the_same_in_login_and_inbox():
    """A real handshake over loopback: https:// to the fake's plain-HTTP socket."""
    from dminbox.fake import serve

    server = FakeMastodon()
    listener = await serve(server)
    try:
        instance = f"https://127.0.0.1:{listener.port}"
        in_inbox, in_login = await _both(None, instance)
    finally:
        await listener.close()
    expected = (
        f"TLS failed with 127.0.0.1:{listener.port}: wrong version number "
        "(does it speak https on this port?)."
    )
    assert str(in_inbox) == str(in_login) == expected
    assert in_login.transient and in_inbox.transient


async def test_a_refused_connection_over_loopback_reads_the_same():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    in_inbox, in_login = await _both(None, f"http://127.0.0.1:{port}")
    assert (
        str(in_inbox)
        == str(in_login)
        == (f"127.0.0.1:{port} refused the connection: check the address and port.")
    )
