"""The server's answers to the menus' questions over FastAGI: each script a
handler that only returns channel variables (the dialplan does the talking).

    case-status  the caller's case (typed number, or the newest): LD_FOUND=1
                 and LD_SAY, the prompt files to play; LD_FOUND=0 otherwise
    callback     (desk, place in line) book a callback for the calling number:
                 LD_CALLBACK=1 once it is saved, 0 if it cannot be offered
    probe        LD_PROBE = the argument (the health check's round trip)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from ami_client import AgiHandler, AgiRequest
from ivr_flows.core.case_status import CaseSummary, find_case, told
from ivr_flows.service.callbacks import CallbackService
from records.service.cases import CaseService

log = logging.getLogger(__name__)

PROMPT_DIR = "liandong"  # Asterisk plays prompt <id> as liandong/<id> (zh)


def handlers(cases: CaseService, callbacks: CallbackService) -> Mapping[str, AgiHandler]:
    async def case_status(request: AgiRequest) -> Mapping[str, str]:
        if not request.caller_number:
            return {"LD_FOUND": "0", "LD_SAY": ""}  # a withheld number has no cases
        records = await cases.cases_of_caller(request.caller_number)
        summaries = [CaseSummary(r.number, r.state, r.due_close, r.created_at) for r in records]
        found = find_case(request.args[0] if request.args else "", summaries)
        if found is None:
            return {"LD_FOUND": "0", "LD_SAY": ""}
        log.info("case status told for case %s (call %s)", found.number, request.linkedid)
        say = "&".join(f"{PROMPT_DIR}/{prompt}" for prompt in told(found))
        return {"LD_FOUND": "1", "LD_SAY": say}

    async def callback(request: AgiRequest) -> Mapping[str, str]:
        desk, place = (*request.args, "", "")[:2]
        booked = await callbacks.book(
            desk,
            request.linkedid or request.uniqueid,
            request.caller_number,
            int(place) if place.isdigit() else 1,
        )
        return {"LD_CALLBACK": "1" if booked is not None else "0"}

    async def probe(request: AgiRequest) -> Mapping[str, str]:
        return {"LD_PROBE": request.args[0] if request.args else ""}

    return {"case-status": case_status, "callback": callback, "probe": probe}
