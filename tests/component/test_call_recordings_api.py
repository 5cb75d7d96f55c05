"""The recordings Asterisk makes on the server's calls, served by the API: a
unit's spoken reason for declining a notice (to every role that may read the
notice — a unit only its own) and a citizen's comment after a follow-up
rating (to the desks and the supervisors, never a unit). The file is found
in the recordings' folder by the name the dialplan told; a missing file is a
clear 404, not a 500."""

from __future__ import annotations

from pathlib import Path

from tests.component.cases_kit import make_users
from tests.component.conftest import StartLiandong
from tests.component.test_follow_ups_api import answered_directly, at_once_config, follow_up_end
from tests.component.test_notices_api import (
    make_urban_token,
    notice_state,
    urgent_dispatch,
    user_event,
)

SPOOL = "/var/spool/asterisk/liandong-notices"  # Asterisk's path, as the dialplan tells it
# A WAV header and a little sound: what is served is what Asterisk wrote.
VOICE = b"RIFF" + (36 + 8).to_bytes(4, "little") + b"WAVEfmt " + bytes(24) + b"data" + bytes(8)


async def test_a_spoken_decline_reason_is_served_to_who_may_read_the_notice(
    start_liandong: StartLiandong, db_url: str, tmp_path: Path
) -> None:
    tokens = await make_users(db_url)
    folder = tmp_path / "recordings"
    folder.mkdir()
    server = await start_liandong(notice_recordings_dir=folder)
    number = await urgent_dispatch(server, tokens)
    await server.fake.wait_for_action("Originate", within=5)
    (folder / "notice-1-1.wav").write_bytes(VOICE)
    told = {"Notice": "1", "Try": "1", "Result": "declined", "Reason": ""}
    server.push([user_event("LdNotice", **told, Recording=f"{SPOOL}/notice-1-1")])
    notice = await notice_state(server, number, "declined")
    assert notice["calls"][0]["recording"] == f"{SPOOL}/notice-1-1"

    path = "/api/v1/notices/1/calls/1/recording"
    urban = await make_urban_token(db_url)
    for who in (tokens["op12345"], tokens["supervisor"], tokens["admin"], urban):
        async with server.client.get(path, headers=server.auth(who)) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "audio/wav"
            assert resp.headers["Cache-Control"] == "no-store"
            assert await resp.read() == VOICE
    # Another unit does not learn the notice exists.
    status, body = await server.get(path, tokens["water"])
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = await server.get("/api/v1/notices/1/calls/2/recording")
    assert status == 404 and "no call 2" in body["error"]["message"]
    (folder / "notice-1-1.wav").unlink()
    status, body = await server.get(path)
    assert status == 404 and "notice-1-1.wav" in body["error"]["message"]
    status, _ = await server.get("/api/v1/notices/x1/calls/1/recording")
    assert status == 404


async def test_a_citizens_comment_is_served_to_the_desks_never_to_a_unit(
    start_liandong: StartLiandong, db_url: str, tmp_path: Path
) -> None:
    tokens = await make_users(db_url)
    folder = tmp_path / "recordings"
    folder.mkdir()
    server = await start_liandong(
        case_config=at_once_config(tmp_path), notice_recordings_dir=folder
    )
    number = await answered_directly(server, tokens)
    await server.fake.wait_for_action("Originate", within=5)
    (folder / "follow-up-1-1.wav").write_bytes(VOICE)
    server.push([follow_up_end("rated", "2", recording=f"{SPOOL}/follow-up-1-1")])

    async def rated() -> bool:
        found = (await server.ok(f"/api/v1/follow-ups?case={number}"))["follow_ups"]
        return bool(found) and found[0]["state"] == "rated"

    await server.eventually(rated, "the follow-up rated")
    path = "/api/v1/follow-ups/1/recording"
    async with server.client.get(path, headers=server.auth(tokens["op12345"])) as resp:
        assert resp.status == 200 and await resp.read() == VOICE
    status, _ = await server.get(path, tokens["water"])
    assert status == 403
    status, body = await server.get("/api/v1/follow-ups/2/recording")
    assert status == 404 and "no follow-up 2" in body["error"]["message"]
