"""The admins' commands: grant, revoke and list roles, reload the rules. Channel-free and without I/O, like the
other handlers: a reload is asked for, and carried out by the dispatcher."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.messages import Button, Incoming, Outgoing
from bot.store.base import NOTICE_ROLES, ROLES, RoleChange, RoleGrant
from handlers.texts import language_for, t

ADMIN_COMMANDS = ("grant", "revoke", "roles", "reload")
MAX_PROBLEMS_SHOWN = 20
MAX_CHANGES_SHOWN = 10
TELL = "rt"  # button: tell the contacts whose results a reload changed ("rt:<old version>:<new version>")
_TELL_DATA = re.compile(r"rt:([0-9a-f]{12}):([0-9a-f]{12})")
RULE_FILE_SUFFIXES = (".yaml", ".yml")
# The privileged commands of every audience, for refusals and for the command menus of role holders.
PRIVILEGED_COMMANDS = ADMIN_COMMANDS


@dataclass
class AdminReply:
    """What an admin command decided: the messages to show and the role changes to make (with an audit entry)."""

    messages: list[Outgoing] = field(default_factory=list)
    changes: list[RoleChange] = field(default_factory=list)
    reload: bool = False  # check the rules folder and swap it in if all is well
    upload: bool = False  # check the rule file sent and apply it if all is well
    tell: tuple[str, str] | None = None  # notify the contacts whose results changed between these versions


@dataclass(frozen=True)
class Access:
    """Who is asking and what the bot knows about roles when it asks."""

    roles: frozenset[str] = frozenset()
    first_admins: frozenset[int] = frozenset()
    grants: tuple[RoleGrant, ...] = ()

    @property
    def may_notify(self) -> bool:
        return bool(self.roles & NOTICE_ROLES)


def is_admin_request(incoming: Incoming) -> bool:
    """An admin command, a rule file sent to the bot, or an admin's button."""
    if incoming.command in ADMIN_COMMANDS:
        return True
    if incoming.callback_data is not None:
        return incoming.callback_data.startswith(f"{TELL}:")
    attachment = incoming.attachment
    return attachment is not None and attachment.name.lower().endswith(RULE_FILE_SUFFIXES)


class AdminHandler:
    """Decides the reply to an admin command; anyone without the admin role gets a plain refusal and nothing runs."""

    def handle(self, incoming: Incoming, access: Access) -> AdminReply:
        """Refuses a user without the admin role; otherwise grants, revokes or lists roles."""
        language = language_for(incoming.language_code)
        if "admin" not in access.roles:
            sent_file = incoming.attachment is not None and incoming.command is None
            refusal = "upload_admin_only" if sent_file else "admin_only"
            return AdminReply([Outgoing(t(refusal, language))])
        if incoming.command == "roles":
            return AdminReply([Outgoing(_roles_list(access, language))])
        if incoming.command == "reload":
            return AdminReply(reload=True)
        if incoming.attachment is not None and incoming.command is None:
            return AdminReply(upload=True)
        if incoming.callback_data is not None:
            versions = _TELL_DATA.fullmatch(incoming.callback_data)
            if versions is None:
                return AdminReply([Outgoing(t("stale_button", language))])
            return AdminReply(tell=(versions[1], versions[2]))
        words = incoming.text.split()
        if len(words) != 2 or not words[0].lstrip("-").isdigit() or words[1] not in ROLES or len(words[0]) > 20:
            usage = t("role_usage", language, command=incoming.command, roles=" / ".join(ROLES))
            return AdminReply([Outgoing(usage)])
        user_id, role = int(words[0]), words[1]
        grant = incoming.command == "grant"
        if not grant and role == "admin" and user_id in access.first_admins:
            return AdminReply([Outgoing(t("first_admin_stays", language, user=user_id))])
        done = t("role_granted" if grant else "role_revoked", language, user=user_id, role=role)
        return AdminReply([Outgoing(done)], [RoleChange(user_id, role, grant)])


def _roles_list(access: Access, language: str) -> str:
    lines = [t("roles_title", language)]
    lines += [t("role_line_setting", language, user=user) for user in sorted(access.first_admins)]
    lines += [
        t("role_line", language, user=g.user_id, role=g.role, by=g.granted_by, at=g.granted_at.strftime("%Y-%m-%d"))
        for g in access.grants
    ]
    return "\n".join(lines) if len(lines) > 1 else t("roles_none", language)


class ReloadResult(Protocol):
    """What a reload or an upload came to (bot.reloading.Checked)."""

    summary: str
    version: str
    previous: str
    problems: Sequence[object]
    changes: Sequence[Change] | None


class Change(Protocol):
    chat: object
    gained: tuple[str, ...]
    lost: tuple[str, ...]


def reload_message(result: ReloadResult, language: str, file_name: str | None = None) -> Outgoing:
    """What an admin is told after a reload (or a rule file sent): the new rule set, its version and whose results
    it changed, with a button to tell them; or every problem (file:line:column) and that the rules in use stay."""
    problems = [str(problem) for problem in result.problems]
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        lines = [t("reload_refused", language, count=len(problems)), *shown]
        if more:
            lines.append(t("reload_more", language, count=more))
        return Outgoing("\n".join(lines))
    if file_name is not None:
        lines = [t("upload_done", language, file=file_name, summary=result.summary, version=result.version)]
    elif result.version == result.previous:
        lines = [t("reload_same", language, summary=result.summary, version=result.version)]
    else:
        lines = [t("reload_done", language, summary=result.summary, version=result.version)]
    changes = result.changes
    if changes is None or result.version == result.previous:
        return Outgoing("\n".join(lines))
    if not changes:
        return Outgoing("\n".join([*lines, t("changed_none", language)]))
    lines.append(t("changed_count", language, count=len(changes)))
    for change in changes[:MAX_CHANGES_SHOWN]:
        gained = " ".join(f"+{rule}" for rule in change.gained)
        lost = " ".join(f"−{rule}" for rule in change.lost)
        lines.append(f"• {change.chat} {gained} {lost}".rstrip().replace("  ", " "))
    if len(changes) > MAX_CHANGES_SHOWN:
        lines.append(t("changed_more", language, count=len(changes) - MAX_CHANGES_SHOWN))
    gaining = sum(1 for change in changes if change.gained)
    if not gaining:  # only losses: "a new reward may apply to you" would be untrue for every one of them
        return Outgoing("\n".join(lines))
    button = Button(t("tell_button", language, count=gaining), f"{TELL}:{result.previous}:{result.version}")
    return Outgoing("\n".join(lines), ((button,),))
