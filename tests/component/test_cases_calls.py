"""Calls open cases: recorded testbed calls replayed through the real app.

An answered call on 110 opens a case at the 110 desk and its channels are
tagged with the case number; a caller who hangs up before anyone answers
leaves a cancelled case, not one stuck in 'received'; a second call from the
same number is offered the open case to merge into (并单).
"""

from __future__ import annotations

from typing import Any

from tests.component.conftest import Liandong, StartLiandong, replace_values, trace


async def cases_of_call(server: Liandong, call_id: str) -> dict[str, Any] | None:
    status, call = await server.get(f"/api/v1/calls/{call_id}")
    return call if status == 200 and call.get("cases") else None


async def case_where(server: Liandong, number: str, state: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        status, case = await server.get(f"/api/v1/cases/{number}")
        return case if status == 200 and case["state"] == state else None

    return await server.eventually(probe, f"case {number} {state}")


async def test_an_answered_call_opens_a_case_and_tags_its_channels(
    start_liandong: StartLiandong,
) -> None:
    server = await start_liandong()
    events = trace("answered_110")
    arrival = next(e for e in events if e.event == "Newchannel")  # the citizen's leg
    call_id, caller = arrival["Linkedid"], arrival["Channel"]
    hangup = next(i for i, e in enumerate(events) if e.event == "Hangup")
    server.push(events[:hangup])  # the call is still on
    call = await server.eventually(lambda: cases_of_call(server, call_id), "the call's case")
    [number] = call["cases"]

    async def tagged() -> list[dict[str, str]]:
        return [dict(a.headers) for a in server.fake.actions_named("Setvar")]

    tags = await server.eventually(tagged, "the call's channels tagged with the case")
    assert {"Channel": caller, "Variable": "__LD_CASE", "Value": number}.items() <= next(
        t for t in tags if t["Channel"] == caller
    ).items()
    server.push(events[hangup:])
    case = await case_where(server, number, "received")  # answered: the desk's to classify
    assert (case["desk"], case["source"]) == ("110", "call")
    assert case["caller"]["number"] == "13900001" and [c["id"] for c in case["calls"]] == [call_id]
    assert case["timeline"][0]["role"] == "system"


async def test_a_caller_who_hangs_up_unanswered_leaves_a_cancelled_case(
    start_liandong: StartLiandong,
) -> None:
    server = await start_liandong()
    events = trace("cancel_110")
    call_id = events[1]["Linkedid"]
    server.push(events)
    call = await server.eventually(lambda: cases_of_call(server, call_id), "the call's case")
    case = await case_where(server, call["cases"][0], "cancelled")
    assert case["timeline"][-1]["data"]["reason"].startswith("来电在接听前挂断")


async def test_a_repeat_caller_is_offered_the_open_case_to_merge_into(
    start_liandong: StartLiandong,
) -> None:
    server = await start_liandong()
    first = trace("answered_110")
    server.push(first)
    first_call = await server.eventually(
        lambda: cases_of_call(server, first[1]["Linkedid"]), "the first call's case"
    )
    second = replace_values(trace("noanswer_12345"), "13800001", "13900001")
    server.push(second)
    second_call = await server.eventually(
        lambda: cases_of_call(server, second[1]["Linkedid"]), "the second call's case"
    )
    assert second_call["case_candidates"] == first_call["cases"]

    # The operator attaches the repeat call to the open case.
    survivor = first_call["cases"][0]
    async with server.client.post(
        f"/api/v1/calls/{second[1]['Linkedid']}/case",
        json={"case": survivor},
        headers=server.auth(),
    ) as resp:
        assert resp.status == 200, await resp.text()
        case = await resp.json()
    assert [c["id"] for c in case["calls"]] == [first[1]["Linkedid"], second[1]["Linkedid"]]
    attached = case["timeline"][-1]  # who attached which call, when
    assert (attached["command"], attached["data"]) == ("link_call", {"call": second[1]["Linkedid"]})
    assert attached["role"] == "admin" and attached["from"] == attached["to"] == case["state"]


async def test_a_caller_the_network_names_oddly_still_gets_a_case_and_so_do_later_ones(
    start_liandong: StartLiandong,
) -> None:
    """A withheld number arrives as "anonymous": no phone number, so the case
    opens without one (the call records keep it) instead of blocking the queue."""
    server = await start_liandong()
    events = replace_values(trace("answered_110"), "13900001", "anonymous")
    call_id = next(e for e in events if e.event == "Newchannel")["Linkedid"]
    server.push(events)
    call = await server.eventually(lambda: cases_of_call(server, call_id), "the call's case")
    case = await case_where(server, call["cases"][0], "received")
    assert case["caller"]["number"] is None and call["caller_number"] == "anonymous"
    later = trace("cancel_110")
    server.push(later)
    await server.eventually(lambda: cases_of_call(server, later[1]["Linkedid"]), "the next case")
