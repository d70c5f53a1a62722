"""The admins' commands: grant, revoke and list roles, reload the rules. Channel-free and without I/O, like the
other handlers: a reload is asked for, and carried out by the dispatcher."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.messages import Incoming, Outgoing
from bot.store.base import NOTICE_ROLES, ROLES, RoleChange, RoleGrant
from handlers.texts import language_for, t

ADMIN_COMMANDS = ("grant", "revoke", "roles", "reload")
MAX_PROBLEMS_SHOWN = 20
# The privileged commands of every audience, for refusals and for the command menus of role holders.
PRIVILEGED_COMMANDS = ADMIN_COMMANDS


@dataclass
class AdminReply:
    """What an admin command decided: the messages to show and the role changes to make (with an audit entry)."""

    messages: list[Outgoing] = field(default_factory=list)
    changes: list[RoleChange] = field(default_factory=list)
    reload: bool = False  # check the rules folder and swap it in if all is well


@dataclass(frozen=True)
class Access:
    """Who is asking and what the bot knows about roles when it asks."""

    roles: frozenset[str] = frozenset()
    first_admins: frozenset[int] = frozenset()
    grants: tuple[RoleGrant, ...] = ()

    @property
    def may_notify(self) -> bool:
        return bool(self.roles & NOTICE_ROLES)


class AdminHandler:
    """Decides the reply to an admin command; anyone without the admin role gets a plain refusal and nothing runs."""

    def handle(self, incoming: Incoming, access: Access) -> AdminReply:
        """Refuses a user without the admin role; otherwise grants, revokes or lists roles."""
        language = language_for(incoming.language_code)
        if "admin" not in access.roles:
            return AdminReply([Outgoing(t("admin_only", language))])
        if incoming.command == "roles":
            return AdminReply([Outgoing(_roles_list(access, language))])
        if incoming.command == "reload":
            return AdminReply(reload=True)
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


def reload_message(summary: str, version: str, problems: list[str], language: str) -> Outgoing:
    """What an admin is told after a reload: the new rule set and its version, or every problem (file:line) and
    that the rules in use stay."""
    if not problems:
        return Outgoing(t("reload_done", language, summary=summary, version=version))
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    lines = [t("reload_refused", language, count=len(problems)), *shown]
    if more:
        lines.append(t("reload_more", language, count=more))
    return Outgoing("\n".join(lines))
