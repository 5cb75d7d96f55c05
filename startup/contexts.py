"""What create_app starts and stops, as aiohttp cleanup contexts: the database,
then the pipeline (writer, call model, ingest consumer, AMI client)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

from aiohttp import web
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ami_client import AgiServerSettings, AmiClient, start_agi_server
from county.case_rules import load_rules
from county.config_file import ConfigFileError
from database.engine import create_engine, session_factory
from database.migrate import upgrade
from ivr_flows.core.desk_rules import load_desk_rules
from ivr_flows.core.menu_walks import MenuWalks
from ivr_flows.http import CALLBACKS, DESKS
from ivr_flows.service import agi_answers
from ivr_flows.service.callbacks import CallbackService, to_cases
from ivr_flows.service.desks import DeskService
from ivr_flows.storage.callbacks import CallbackStore
from ivr_flows.storage.store import DeskStore
from notify.http import FOLLOW_UPS, NOTICES
from notify.service.call_lines import CallLines
from notify.service.follow_ups import FollowUpService
from notify.service.notice_audio import NoticeAudio
from notify.service.notices import NoticeService
from notify.storage.follow_up_store import FollowUpStore
from notify.storage.store import NoticeStore
from people import http as http_people
from people.service.accounts import AccountService
from records.http import CASE_CALLS, CASES
from records.service.call_link import CaseCalls
from records.service.cases import CaseService
from records.service.ladder import ladder_task
from records.storage.roster_history import record_roster
from startup.ivr_check_cli import check_at_start
from startup.settings import SETTINGS, SettingsError
from telephony.core.model import CallModel, KnownLeg
from telephony.http import INGEST
from telephony.service.cel import CelReader
from telephony.service.ingest import Ingest
from telephony.storage.repository import CallRepository
from telephony.storage.tables import Leg
from telephony.storage.writer import RecordWriter
from transfer.core.key_codes import KeyCodesError, KeyDetector, load_key_codes
from transfer.http import TRANSFERS
from transfer.service import TransferService
from web.app_state import ENGINE, LIVE, RULES, SESSIONS
from web.tokens import names_on_phones

log = logging.getLogger(__name__)

SHUTDOWN_DRAIN_S = 10.0
SHUTDOWN_WRITE_S = 30.0  # the database may be down at shutdown: don't hang forever


async def database(app: web.Application) -> AsyncIterator[None]:
    url = app[SETTINGS].db_url
    await prepare_database(url)
    engine = create_engine(url)
    app[ENGINE] = engine
    app[SESSIONS] = session_factory(engine)
    yield
    await engine.dispose()


async def cases(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    try:
        rules = load_rules(settings.case_config)
    except ConfigFileError as exc:
        raise SettingsError(f"LIANDONG_CASE_CONFIG: {exc}") from None
    missing = rules.calendar.missing_years(date.today(), date.today() + timedelta(days=366))
    if missing:
        log.warning(
            "no working-day calendar for %s in %s/calendar: only weekends and the fixed-date "
            "holidays (1 Jan, 1-2 May, 1-3 Oct) count for those years",
            ", ".join(map(str, missing)),
            settings.case_config,
        )
    async with app[SESSIONS]() as session, session.begin():
        changed = await record_roster(session, rules.roster, datetime.now(UTC))
    if changed:
        log.info("unit roster: %d unit(s) added or changed since the last start", changed)
    app[RULES] = rules
    service = app[CASES] = CaseService(app[SESSIONS], rules, publish=app[LIVE].publish)
    ladder = (
        asyncio.create_task(ladder_task(service, settings.ladder_interval), name="ladder")
        if settings.ladder_interval > 0
        else None
    )
    yield
    if ladder is not None:
        ladder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ladder


async def people(app: web.Application) -> AsyncIterator[None]:
    """People's accounts: signing in to the pages (after the cases: a unit
    account must name a unit of the roster)."""
    accounts = AccountService(
        app[SESSIONS],
        lambda: frozenset(app[RULES].roster.units),
        sign_in_hours=app[SETTINGS].sign_in_hours,
    )
    http_people.install(app, accounts)
    yield


async def pipeline(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    # Settings that stop the start are checked before anything runs that would
    # then have to be stopped.
    if settings.connect_ami and not settings.ami.secret.reveal():
        raise SettingsError("no AMI secret: set LIANDONG_AMI_SECRET or LIANDONG_AMI_SECRET_FILE")
    try:
        keys = KeyDetector(load_key_codes(settings.features_conf))
    except KeyCodesError as exc:
        raise SettingsError(f"LIANDONG_FEATURES_CONF: {exc}") from None
    try:
        desk_rules = load_desk_rules(settings.ivr_dir / "desks.yaml")
    except ConfigFileError as exc:
        raise SettingsError(f"LIANDONG_IVR_DIR: {exc}") from None
    # The menus Asterisk runs were generated from these files: a broken one
    # stops the start here, never a live call.
    flows = check_at_start(
        settings.ivr_dir / "flows", settings.ivr_dir / "prompts" / "prompts.yaml"
    )
    # Big batches when a backlog builds (a burst of calls, a database hiccup):
    # a batch of 2000 commits about twice as many events per second as 500, and
    # under light load a batch is cut short after max_delay anyway.
    writer = RecordWriter(app[SESSIONS], batch_size=2000)
    await writer.start()
    model = CallModel()
    model.restore(await known_legs(app))
    cel = CelReader(settings.cel_url) if settings.cel_url else None
    ingest = Ingest(model, writer, app[LIVE], cel, audit_interval=settings.audit_interval)
    app[INGEST] = ingest
    transfers = TransferService(
        model, app[SESSIONS], app[LIVE], ring_timeout_s=settings.transfer_ring_timeout, keys=keys
    )
    app[TRANSFERS] = transfers
    transfers.pbx_started = lambda: ingest.status.asterisk_started
    roster = app[RULES].roster
    transfers.unit_line_known = lambda line: roster.on_line(line) is not None
    ingest.observers.append(transfers.observe)
    desk_store = DeskStore(app[SESSIONS])
    desks = app[DESKS] = DeskService(
        desk_rules,
        desk_store,
        app[LIVE],
        MenuWalks(flows),
        queue_log=settings.queue_log,
        call_of=partial(call_of_leg, model),
    )
    await desks.restore()
    # Before the case linker: a hang-up in the menu is on the case before the
    # case is cancelled as unanswered.
    ingest.domain_observers.append(desks.on_call_events)
    case_calls = CaseCalls(app[CASES], partial(channels_of, model), names_at_phones(app))
    app[CASE_CALLS] = case_calls
    ingest.domain_observers.append(case_calls.on_events)
    ingest.observers.append(case_calls.observe)
    transfers.listeners.append(case_calls.on_transfer)
    ingest.observers.append(desks.observe)
    desks.case_listeners.append(case_calls.on_menu)
    callback_store = CallbackStore(app[SESSIONS])
    callbacks = app[CALLBACKS] = CallbackService(desk_rules, callback_store, app[LIVE])
    await callbacks.load()
    ingest.observers.append(callbacks.observe)
    callbacks.listeners.append(to_cases(case_calls.on_callback))
    lines = CallLines()  # the server's own calls, notices and follow-ups together
    ingest.observers.append(lines.observe)
    notices = app[NOTICES] = NoticeService(
        app[RULES],
        NoticeStore(app[SESSIONS]),
        app[CASES],
        app[LIVE],
        audio=(
            NoticeAudio(settings.notice_audio_dir, settings.notice_audio_pbx_dir)
            if settings.notice_audio_dir is not None
            else None
        ),
        recordings=settings.notice_recordings,
        lines=lines,
    )
    await notices.load()
    app[CASES].listeners.append(notices.on_case)
    ingest.observers.append(notices.observe)
    follow_ups = app[FOLLOW_UPS] = FollowUpService(
        app[RULES],
        FollowUpStore(app[SESSIONS]),
        app[CASES],
        app[LIVE],
        lines=lines,
        recordings=settings.notice_recordings,
    )
    await follow_ups.load()
    app[CASES].listeners.append(follow_ups.on_case)
    ingest.observers.append(follow_ups.observe)
    desk_tasks = [
        asyncio.create_task(desks.run(), name="desks"),
        asyncio.create_task(desk_store.run(), name="desk-records"),
        asyncio.create_task(callbacks.run(), name="callbacks"),
        asyncio.create_task(notices.run(), name="notices"),
        asyncio.create_task(follow_ups.run(), name="follow-ups"),
    ]
    consumer = asyncio.create_task(ingest.run(), name="ingest")
    transfer_worker = asyncio.create_task(transfers.run(), name="transfers")
    case_worker = asyncio.create_task(case_calls.run(), name="case-calls")
    agi = None
    if settings.connect_ami:
        try:
            agi = await start_agi_server(
                agi_answers.handlers(app[CASES], callbacks),
                AgiServerSettings(port=settings.agi_port),
            )
        except OSError as exc:
            # The menus go on without the server's answers (the dialplan falls
            # back): a degraded start, not a failed one.
            log.error(
                "FastAGI: cannot listen on 127.0.0.1:%d (%s): the menus' case lookups "
                "go to an operator",
                settings.agi_port,
                exc.strerror,
            )
        client = AmiClient(settings.ami, ingest.sink)
        ingest.client = transfers.sender.client = case_calls.client = client
        desks.client = callbacks.client = notices.client = follow_ups.client = client
        await ingest.client.start()
    try:
        await notices.catch_up()
    except Exception as exc:  # the database is down: the next start tries again
        log.error("notices: dispatches without a notice not looked for (%s)", exc)
    try:
        await follow_ups.catch_up()
    except Exception as exc:
        log.error("follow-ups: closures without a follow-up not looked for (%s)", exc)
    yield
    if agi is not None:
        await agi.close()
    transfer_worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await transfer_worker
    await transfers.stop(SHUTDOWN_WRITE_S)
    if ingest.client is not None:
        await ingest.client.stop()
    try:
        await asyncio.wait_for(ingest.drained(), SHUTDOWN_DRAIN_S)
    except TimeoutError:
        log.error("shutdown: %d AMI events were not applied", ingest.backlog)
    consumer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await consumer
    # The events just drained may have opened calls: their cases are opened
    # before the worker goes (cancelled mid-write, a case was lost).
    try:
        await asyncio.wait_for(case_calls.idle(), SHUTDOWN_WRITE_S)
    except TimeoutError:
        log.error("shutdown: %d case links of calls were not made", case_calls.backlog)
    case_worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await case_worker
    for task in desk_tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if not await desk_store.flush_within(SHUTDOWN_WRITE_S):
        log.error("shutdown: some queue waits, operator states or menu steps were not saved")
    await writer.stop(timeout=SHUTDOWN_WRITE_S)
    if cel is not None:
        await cel.close()


def call_of_leg(model: CallModel, uniqueid: str) -> str | None:
    """The call a live leg is part of (a queue's caller, by its uniqueid)."""
    leg = model.legs.get(uniqueid)
    return leg.call_id if leg is not None else None


def names_at_phones(app: web.Application) -> Callable[[str], Awaitable[str | None]]:
    """Who acts from a desk phone (the case timeline's "who handed this caller
    over"): the person whose account is bound to it, else the token's holder."""
    by_token = names_on_phones(app[SESSIONS])
    accounts = app[http_people.ACCOUNTS]

    async def name_at(phone: str) -> str | None:
        return await accounts.name_on_phone(phone) or await by_token(phone)

    return name_at


async def known_legs(app: web.Application) -> list[KnownLeg]:
    """Legs the database still has open from before a restart, with the bridges
    they are in: reconciliation on the first connect closes or resumes each."""
    async with app[SESSIONS]() as session:
        repo = CallRepository(session)
        open_legs = await repo.open_legs()
        stays = await repo.open_bridge_stays()
    return [
        KnownLeg(
            leg.uniqueid,
            leg.call_id,
            leg.channel,
            leg.endpoint,
            leg.role,
            leg.trunk,
            leg.direction,
            leg.answered_at is not None,
            frozenset(stays.get(leg.uniqueid, ())),
            last_seen=last_recorded(leg),
        )
        for leg in open_legs
    ]


def last_recorded(leg: Leg) -> datetime:
    """A restored leg's latest recorded sign of life: if Asterisk restarted after
    it, the leg belonged to the Asterisk before and ended by that restart."""
    return max(t for t in (leg.created_at, leg.ringing_at, leg.answered_at) if t is not None)


def channels_of(model: CallModel, call_id: str) -> list[str]:
    return [leg.channel for leg in model.legs.values() if leg.call_id == call_id]


async def prepare_database(url: str) -> None:
    """The database at `url` created if need be and migrated; one that cannot be
    opened is a SettingsError naming LIANDONG_DB_URL (the reason, never a password)."""
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        ensure_sqlite_dir(url)
    except OSError as exc:
        raise SettingsError(
            f"LIANDONG_DB_URL: cannot create the directory for {shown}: {exc.strerror}"
        ) from None
    try:
        await upgrade(url)
    except (OSError, DBAPIError) as exc:  # refused, unknown host, bad password, no such database
        reason = exc.orig if isinstance(exc, DBAPIError) else exc
        raise SettingsError(f"LIANDONG_DB_URL: cannot open {shown}: {reason}") from None


def ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
