"""Loading the initiatives a campaign's duplicate index is built from, in id order."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from bot.duplicates import SOLUTION_CHARS
from storage.engine import Conn
from storage.tables import metadata

initiatives = metadata.tables["initiative"]

# Only the start of the solution feeds the similarity key, so only that much is read.
CANDIDATES_SINCE = (
    select(
        initiatives.c.id,
        initiatives.c.code,
        initiatives.c.status,
        initiatives.c.title,
        func.substr(initiatives.c.solution, 1, SOLUTION_CHARS),
    )
    .where(
        initiatives.c.campaign_key == bindparam("campaign_key"),
        initiatives.c.id > bindparam("after_id"),
        initiatives.c.status != "draft",
    )
    .order_by(initiatives.c.id)
    .limit(bindparam("limit"))
)


async def candidates_since(
    conn: Conn, campaign_key: str, after_id: int, limit: int
) -> list[tuple[int, str, str, str, str | None]]:
    """Up to `limit` non-draft initiatives of the campaign with id > `after_id`, in id order."""
    result = await conn.execute(CANDIDATES_SINCE, {"campaign_key": campaign_key, "after_id": after_id, "limit": limit})
    return [(row[0], row[1] or "", row[2], row[3] or "", row[4]) for row in result.all()]
