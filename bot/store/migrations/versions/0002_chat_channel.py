"""Keys chats by channel and id, so a web chat and a Telegram chat with the same number are different chats."""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every chat stored so far came from Telegram.
    with op.batch_alter_table("chats", recreate="always") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=16), nullable=False, server_default="telegram"))
        batch.drop_constraint("pk_chats", type_="primary")
        batch.create_primary_key("pk_chats", ["channel", "chat_id"])
    with op.batch_alter_table("chats") as batch:
        batch.alter_column("channel", server_default=None)


def downgrade() -> None:
    op.execute("DELETE FROM chats WHERE channel <> 'telegram'")
    with op.batch_alter_table("chats", recreate="always") as batch:
        batch.drop_constraint("pk_chats", type_="primary")
        batch.drop_column("channel")
        batch.create_primary_key("pk_chats", ["chat_id"])
