"""Every table of the server on the one MetaData: what Alembic compares the
migrations with (autogenerate, and the test that they match the tables).

Each feature declares its tables beside its storage; importing them here is
what puts them all on `database.base.Base.metadata`, wherever it is used.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from database.base import Base
from ivr_flows.storage import tables as desk_tables
from notify.storage import tables as notice_tables
from people.storage import tables as people_tables
from records.storage import tables as case_tables
from telephony.storage import tables as call_tables
from transfer.storage import tables as transfer_tables
from web import tokens

TABLE_MODULES = (
    call_tables,
    transfer_tables,
    case_tables,
    desk_tables,
    notice_tables,
    people_tables,
    tokens,
)
metadata: MetaData = Base.metadata
