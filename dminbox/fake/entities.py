"""Renders stored records as Mastodon's JSON entities: Account, Status, Conversation."""

from __future__ import annotations

from datetime import datetime

from dminbox.fake.state import AccountRecord, ConversationRow, InboxState, StatusRecord

__all__ = ["EntityRenderer", "iso_time"]

# The role Mastodon reports for a user without one.
EVERYONE_ROLE = {"id": "-99", "name": "", "permissions": "65536", "color": "", "highlighted": False}


def iso_time(moment: datetime) -> str:
    """Mastodon's timestamp form: UTC, milliseconds, a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class EntityRenderer:
    """Builds the JSON a real server would send, from the state as it is now.

    Rendering happens per request, so a changed `base_url` shows in every URL.
    """

    def __init__(self, state: InboxState) -> None:
        self.state = state

    def _status_count(self, account_id: str) -> int:
        return sum(1 for status in self.state.statuses.values() if status.account_id == account_id)

    def account(self, account: AccountRecord, *, with_counts: bool = False) -> dict:
        base = self.state.base_url
        origin = account.origin
        avatar = f"{base}/avatars/original/missing.png"
        header = f"{base}/headers/original/missing.png"
        return {
            "id": account.id,
            "username": account.username,
            "acct": account.acct,
            "display_name": account.display_name,
            "locked": False,
            "bot": account.bot,
            "discoverable": False,
            "indexable": False,
            "group": False,
            "created_at": iso_time(
                account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
            ),
            "note": account.note,
            "url": account.url,
            "uri": f"{origin}/users/{account.username}",
            "avatar": avatar,
            "avatar_static": avatar,
            "avatar_description": "",
            "header": header,
            "header_static": header,
            "header_description": "",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": self._status_count(account.id) if with_counts else 0,
            "last_status_at": None,
            "hide_collections": False,
            "show_media": True,
            "show_media_replies": True,
            "show_featured": True,
            "noindex": False,
            "emojis": [],
            "roles": [],
            "fields": [],
        }

    def credential_account(self, account: AccountRecord) -> dict:
        """verify_credentials' answer: the Account plus its `source`."""
        rendered = self.account(account, with_counts=True)
        rendered.update(
            role=dict(EVERYONE_ROLE),
            feature_approval={"automatic": [], "manual": [], "current_user": "denied"},
        )
        rendered["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": None,
            "note": account.note,
            "fields": [],
            "follow_requests_count": 0,
        }
        return rendered

    def status(self, status: StatusRecord) -> dict:
        author = self.state.accounts[status.account_id]
        mentions = [self.state.accounts[account_id] for account_id in status.mention_ids]
        status_path = "statuses/" if self.state.flavour == "gotosocial" else ""
        return {
            "id": status.id,
            "created_at": iso_time(status.created_at),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": status.in_reply_to_account_id,
            "sensitive": bool(status.spoiler_text),
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": f"{author.origin}/users/{author.username}/statuses/{status.id}",
            "url": f"{author.url}/{status_path}{status.id}",
            "replies_count": len(self.state.replies.get(status.id, [])),
            "reblogs_count": 0,
            "favourites_count": 0,
            "quotes_count": 0,
            "edited_at": None,
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "content": status.content,
            "filtered": [],
            "reblog": None,
            "application": {"name": "dminbox fake", "website": None},
            "account": self.account(author),
            "media_attachments": [dict(media) for media in status.media],
            "mentions": [
                {"id": m.id, "username": m.username, "url": m.url, "acct": m.acct} for m in mentions
            ],
            "tags": [],
            "emojis": [],
            "tagged_collections": [],
            "quote": None,
            "card": None,
            "poll": None,
            "quote_approval": {"automatic": [], "manual": [], "current_user": "denied"},
        }

    def conversation(self, row: ConversationRow) -> dict:
        last = self.state.statuses.get(row.last_status_id or "")
        others = row.participant_ids or (row.owner_id,)
        return {
            "id": row.id,
            "unread": row.unread,
            # A note to yourself lists you, as Mastodon does.
            "accounts": [self.account(self.state.accounts[account_id]) for account_id in others],
            "last_status": self.status(last) if last else None,
        }
