"""Finding accounts by name, as GET /api/v1/accounts/lookup and GET /api/v2/search do.

A server knows the accounts it has already fetched (`InboxState.accounts`). One
on another server that it has not fetched yet (`InboxState.remote_only`) stays
invisible to lookup and to a plain search: only a search with `resolve=true`
for its exact `user@domain` (or its profile URL) fetches it over WebFinger, and
from then on it is known like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from dminbox.fake.content import MENTION_RE
from dminbox.fake.responses import HttpError
from dminbox.fake.state import AccountRecord, InboxState

__all__ = ["SEARCH_LIMIT", "Directory"]

SEARCH_LIMIT = 20
"""Results per search unless `limit` says otherwise: at most 40 on both servers."""
MAX_SEARCH_LIMIT = 40
RUBY_INTEGER = re.compile(r"\s*([+-]?\d+)")
# Rails' ActiveModel::Type::Boolean: these are false, a blank value is absent, the rest true.
RAILS_FALSE = frozenset({"0", "f", "F", "false", "FALSE", "off", "OFF"})
GO_BOOLEANS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}
EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+")
URL_QUERY = re.compile(r"https?://", re.IGNORECASE)
GOTOSOCIAL_TYPES = ("", "accounts", "statuses", "hashtags")

EMPTY_QUERY = "Bad Request: search query was empty string after trimming space"
# Mastodon's answers to a search it refuses without a token.
UNAUTHENTICATED_OFFSET = "Search queries pagination is not supported without authentication"
UNAUTHENTICATED_RESOLVE = (
    "Search queries that resolve remote resources are not supported without authentication"
)


def _ruby_to_i(value: str) -> int:
    match = RUBY_INTEGER.match(value)
    return int(match.group(1)) if match else 0


def _rails_truthy(value: str | None) -> bool:
    return value not in (None, "") and value not in RAILS_FALSE


def _go_int(key: str, raw: str | None, default: int, low: int, high: int) -> int:
    """GoToSocial's parseInt: absent is the default, a non-integer a 400, the rest clamped."""
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HttpError(
            400,
            f"Bad Request: error parsing key {key} with value {raw} as int: "
            f'strconv.Atoi: parsing "{raw}": invalid syntax',
        ) from None
    return max(low, min(value, high))


def _go_bool(key: str, raw: str | None) -> bool:
    if raw in (None, ""):
        return False
    if raw not in GO_BOOLEANS:
        raise HttpError(
            400,
            f"Bad Request: error parsing key {key} with value {raw} as bool: "
            f'strconv.ParseBool: parsing "{raw}": invalid syntax',
        )
    return GO_BOOLEANS[raw]


def _name_parts(acct: str) -> tuple[str, str | None] | None:
    """`@user` or `@user@domain` (the leading @ given) as its parts, else None."""
    match = MENTION_RE.fullmatch(acct)
    if match is None:
        return None
    return match.group("username"), match.group("domain")


class Directory:
    """The accounts a server can find by name, for the flavour's rules."""

    def __init__(self, state: InboxState) -> None:
        self.state = state

    @property
    def flavour(self) -> str:
        return self.state.flavour

    # GET /api/v1/accounts/lookup?acct=

    def lookup(self, acct: str | None) -> AccountRecord:
        """The known account `acct` names; never fetches one (a 404 instead)."""
        if self.flavour == "gotosocial":
            return self._gotosocial_lookup(acct)
        # ResolveAccountService with skip_webfinger: strip, one leading @ off, split at @.
        parts = (acct or "").strip().removeprefix("@").split("@")
        found = None
        if parts[0]:
            found = self.state.find_account(parts[0], parts[1] if len(parts) > 1 else None)
        if found is None:
            raise HttpError(404, "Record not found")
        return found

    def _gotosocial_lookup(self, acct: str | None) -> AccountRecord:
        if not acct:
            raise HttpError(400, "Bad Request: required key acct was not set or had empty value")
        query = acct.strip()
        if not query:
            raise HttpError(400, EMPTY_QUERY)
        if not query.startswith("@"):
            query = "@" + query
        parts = _name_parts(query)
        if parts is None:
            raise HttpError(
                400,
                "Bad Request: bad search query, must in the form '[username]' or "
                "'[username]@[domain]",
            )
        found = self.state.find_account(*parts)
        if found is None:
            raise HttpError(404, f"Not Found: {query} not found")
        return found

    # GET /api/v2/search?q=&type=&resolve=&limit=&offset=

    def search(self, params: Mapping[str, str], *, signed_in: bool) -> list[AccountRecord]:
        """The accounts of a search's answer (statuses and hashtags are never found)."""
        if self.flavour == "gotosocial":
            return self._gotosocial_search(params)
        return self._mastodon_search(params, signed_in)

    def _mastodon_search(self, params: Mapping[str, str], signed_in: bool) -> list[AccountRecord]:
        raw_query = params.get("q") or ""
        if not raw_query.strip():
            raise HttpError(400, "param is missing or the value is empty: q")
        resolve = _rails_truthy(params.get("resolve"))
        if not signed_in and params.get("offset"):
            raise HttpError(401, UNAUTHENTICATED_OFFSET)
        if not signed_in and resolve:
            raise HttpError(401, UNAUTHENTICATED_RESOLVE)
        limit = SEARCH_LIMIT
        if "limit" in params:
            limit = min(abs(_ruby_to_i(params["limit"])), MAX_SEARCH_LIMIT)
        kind = params.get("type") or ""
        offset = _ruby_to_i(params.get("offset") or "") if kind else 0
        query = raw_query.strip()
        if limit == 0 or kind not in ("", "accounts"):
            return []
        if resolve and URL_QUERY.match(query):
            found = self._by_url(query, resolve=True)
            return [found] if found and offset == 0 else []
        if query.startswith("#") or ("@" in query and " " in query):
            return []
        term = query.removeprefix("@")
        exact = None
        if offset == 0 and "@" in term and (parts := _name_parts("@" + term)):
            username, domain = parts
            exact = (
                self.state.resolve(username, domain)
                if resolve
                else self.state.find_account(username, domain)
            )
        others = [a for a in self._prefix_matches(term) if a is not exact]
        found_list = ([exact] if exact else []) + others[offset:]
        return found_list[:limit]

    def _prefix_matches(self, term: str) -> list[AccountRecord]:
        """Known accounts where each word of `term` begins the username, the acct, the
        domain or a word of the display name (case-insensitively); a name match first."""
        words = term.lower().split()
        whole = term.lower()
        if not words:
            return []
        matched = []
        for account in self.state.accounts.values():
            tokens = [account.username.lower(), account.acct.lower()]
            tokens += [(account.domain or "").lower(), *account.display_name.lower().split()]
            if all(any(token.startswith(word) for token in tokens) for word in words):
                matched.append(account)

        def named(account: AccountRecord) -> bool:
            return account.username.lower().startswith(whole) or account.acct.lower().startswith(
                whole
            )

        return sorted(matched, key=lambda account: not named(account))

    def _by_url(self, url: str, *, resolve: bool) -> AccountRecord | None:
        """The account whose profile URL or ActivityPub URI this is, fetched if allowed."""
        for account in self.state.accounts.values():
            if url in (account.url, f"{account.origin}/users/{account.username}"):
                return account
        if not resolve:
            return None
        for account in list(self.state.remote_only.values()):
            if url in (account.url, f"{account.origin}/users/{account.username}"):
                return self.state.resolve(account.username, account.domain)
        return None

    def _gotosocial_search(self, params: Mapping[str, str]) -> list[AccountRecord]:
        limit = _go_int("limit", params.get("limit"), SEARCH_LIMIT, 1, MAX_SEARCH_LIMIT)
        offset = _go_int("offset", params.get("offset"), 0, 0, 10)
        if not params.get("q"):
            raise HttpError(400, "Bad Request: required key q was not set or had empty value")
        resolve = _go_bool("resolve", params.get("resolve"))
        query = params["q"].strip()
        kind = (params.get("type") or "").strip().lower()
        if not query:
            raise HttpError(400, EMPTY_QUERY)
        if kind not in GOTOSOCIAL_TYPES:
            raise HttpError(
                400,
                f"Bad Request: search query type {kind} was not recognized, valid options are "
                "['', 'accounts', 'statuses', 'hashtags']",
            )
        if offset > 0 or kind not in ("", "accounts"):
            return []  # GoToSocial pages with max_id / min_id; an offset finds nothing
        name = query
        if "@" in name and not name.startswith("@") and EMAIL_LIKE.fullmatch(name):
            name = "@" + name  # "user@domain" is taken for "@user@domain"
        parts = _name_parts(name) if name.startswith("@") else None
        if parts is not None:
            username, domain = parts
            if domain:
                found = (
                    self.state.resolve(username, domain)
                    if resolve
                    else self.state.find_account(username, domain)
                )
                return [found] if found else []
            return self._newest_first(
                a
                for a in self.state.accounts.values()
                if a.username.lower().startswith(username.lower())
            )[:limit]
        if URL_QUERY.match(query):
            found = self._by_url(query, resolve=resolve)
            return [found] if found else []
        if query.startswith("#"):
            return []
        needle = query.lower()
        return self._newest_first(
            a
            for a in self.state.accounts.values()
            if needle in (a.username + a.display_name).lower()
        )[:limit]

    @staticmethod
    def _newest_first(accounts: Iterable[AccountRecord]) -> list[AccountRecord]:
        """GoToSocial's order: account id descending (ULIDs sort as text)."""
        return sorted(accounts, key=lambda account: account.id, reverse=True)
