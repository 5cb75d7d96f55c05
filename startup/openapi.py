"""The API's OpenAPI document, gathered from every feature's part."""

from __future__ import annotations

import copy
import functools
from typing import Any

from ivr_flows import openapi as desk_api
from notify import openapi as notice_api
from people import openapi as people_api
from records import openapi as case_api
from records.supervision import openapi as supervision_api
from telephony import openapi as call_api
from transfer import openapi as transfer_api
from web.openapi import ApiPart, assemble

PARTS = (
    ApiPart(call_api.paths(), call_api.CALL_SCHEMAS),
    ApiPart(transfer_api.paths(), transfer_api.TRANSFER_SCHEMAS),
    ApiPart(case_api.case_paths(), {**case_api.UNIT_SCHEMAS, **case_api.CASE_SCHEMAS}),
    # The supervision views' path items are kept beside their handlers.
    ApiPart(supervision_api.PATHS),
    ApiPart(desk_api.paths(), desk_api.DESK_SCHEMAS),
    ApiPart(notice_api.paths(), notice_api.NOTICE_SCHEMAS),
    ApiPart(people_api.paths(), people_api.PEOPLE_SCHEMAS),
)


@functools.cache
def _document() -> dict[str, Any]:
    return assemble(PARTS)


def document() -> dict[str, Any]:
    """The document (a copy: callers may change it)."""
    return copy.deepcopy(_document())


def served_document() -> dict[str, Any]:
    """The one copy the server answers with (never changed)."""
    return _document()
