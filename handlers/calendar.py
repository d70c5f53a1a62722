"""The deadlines of a contact's rewards as an iCalendar file (RFC 5545) that calendar apps import, for any channel."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from icalendar import Calendar, Event

from bot.engine.matching import Match
from bot.messages import Document, Outgoing
from handlers import phrases
from handlers.render import Upcoming, amount_line, upcoming_deadlines, where_to_apply
from handlers.texts import t

FILE_NAME = "deadlines.ics"
MEDIA_TYPE = "text/calendar"
PRODID = "-//incentive-bot//application deadlines//ZH"
# Names the bot in every event's UID, so its events never collide with those of other calendars.
UID_DOMAIN = "incentive-bot"


def event_uid(rule_id: str, day: date) -> str:
    """One reward's deadline on one day: the same in every file, so importing a newer file updates the event."""
    return f"{rule_id}-{day:%Y%m%d}@{UID_DOMAIN}"


def calendar_file(match: Match, language: str) -> bytes:
    """An iCalendar file with one all-day event per date still ahead of each eligible or undetermined reward:
    the reward as its summary, and the amount, clause and where to apply in its description.

    Pure: the same results on the same day give the same bytes (DTSTAMP is the day's start in UTC).
    """
    return _calendar(match, upcoming_deadlines(match), language)


def _calendar(match: Match, coming: list[Upcoming], language: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", t("calendar_name", language))
    stamp = datetime.combine(match.today, time(0), UTC)
    for upcoming in coming:
        calendar.add_component(_event(match, upcoming, language, stamp))
    return calendar.to_ical()


def _event(match: Match, upcoming: Upcoming, language: str, stamp: datetime) -> Event:
    rule, deadline = upcoming.result.rule, upcoming.deadline
    event = Event()
    event.add("uid", event_uid(rule.id, deadline.date))
    event.add("dtstamp", stamp)
    event.add("dtstart", deadline.date)
    event.add("dtend", deadline.date + timedelta(days=1))
    event.add("summary", t("calendar_summary", language, title=phrases.title(rule, language)))
    event.add("description", "\n".join(_description(match, upcoming, language)))
    event.add("transp", "TRANSPARENT")  # a deadline, not a meeting: it does not make the day busy
    return event


def _description(match: Match, upcoming: Upcoming, language: str) -> list[str]:
    result, deadline = upcoming.result, upcoming.deadline
    rule = result.rule
    if result.status == "eligible":
        status = t("calendar_eligible", language)
    else:
        catalogue = match.matcher.ruleset.catalogue
        names = phrases.phrase("list_separator", language).join(
            catalogue[fact].short_label(language) for fact in result.missing if fact in catalogue
        )
        status = t("calendar_possible", language, facts=names)
    lines = [
        phrases.deadline_label(deadline, language),
        t("calendar_amount", language, amount=amount_line(match, result, language)),
        t("basis", language, citation=phrases.citation(rule, language)),
        t("apply_at", language, where=where_to_apply(rule, deadline, language)),
    ]
    if deadline.opens is not None:
        lines.append(t("calendar_opens", language, date=deadline.opens.isoformat()))
    if deadline.call is not None and deadline.call.contact:
        lines.append(phrases.source_text(deadline.call.contact, language))
    return [*lines, status, t("disclaimer", language)]


def calendar_message(match: Match, language: str) -> Outgoing:
    """The calendar file with a line saying what it holds, or why there is none."""
    coming = upcoming_deadlines(match)
    if not coming:
        return Outgoing(t("no_deadlines", language))
    document = Document(FILE_NAME, MEDIA_TYPE, _calendar(match, coming, language))
    return Outgoing(t("calendar_caption", language, n=len(coming)), document=document)
