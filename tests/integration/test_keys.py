"""The desk phones' in-call keys reach the server as AMI UserEvents.

Groundwork for [transfer]: an operator presses *1, *2, *0, *3 or *4N on the
phone (SIP INFO, as desk phones send DTMF) and the server sees `LdKey` on the
operator's own leg, with the call's identity; nothing else happens yet.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from ami_client import AmiClient, AmiMessage, LinkDown, LinkUp
from ami_client.settings import AmiSettings, Secret
from pbx import sipp, testbed


async def test_operator_keys_raise_ldkey_user_events(
    pbx_clean: testbed.TestbedConfig, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    seen: list[AmiMessage] = []

    def sink(item: AmiMessage | LinkUp | LinkDown) -> None:
        if isinstance(item, AmiMessage) and item.get("UserEvent") == "LdKey":
            seen.append(item)

    settings = AmiSettings(
        host=pbx_clean.ami_host,
        port=pbx_clean.ami_port,
        secret=Secret(testbed.ami_secret(pbx_clean)),
    )
    client = AmiClient(settings, sink)
    await client.start()
    try:
        await client.wait_connected(10)
        phones["a"] = sipp.start_phone(
            "op110-1", work, ring_ms=200, talk_ms=3500, keys="*1*2*0*3*45"
        )
        phones["b"] = sipp.start_phone("op110-2", work, ring_ms=sipp.NEVER_MS)
        result = await asyncio.to_thread(
            sipp.call, "110", work, number_prefix="1311111", caller_name="按键", talk_ms=60_000
        )
        assert result.outcomes == {"13111111": "answered"}, result.stdout_tail
    finally:
        await client.stop()

    keys = [(m.get("Key"), m.get("Unit")) for m in seen]
    assert keys == [
        ("blind", None),
        ("attended", None),
        ("cancel", None),
        ("conference", None),
        ("unit", "05"),
    ]
    # Pressed on the operator's own leg, which names the call (Linkedid) and desk.
    for event in seen:
        assert event.get("Channel", "").startswith("PJSIP/op110-1-")
        assert event.channel_variables()["LD_ROLE"] == "operator_110"
        assert event.get("Linkedid") == seen[0].get("Linkedid")
