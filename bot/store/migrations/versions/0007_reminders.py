"""Adds deadline reminders: one row per contact, reward, deadline and days before it, queued once."""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("rule_id", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("days_before", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "chat_id", "rule_id", "deadline", "days_before", name=op.f("pk_reminders")),
    )
    op.create_index("ix_reminders_outbox", "reminders", ["outbox_id"])


def downgrade() -> None:
    op.drop_index("ix_reminders_outbox", table_name="reminders")
    op.drop_table("reminders")
