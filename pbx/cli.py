"""`liandong pbx up | down | status | cli <command>`."""

from __future__ import annotations

import argparse
import json

from pbx import testbed


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("pbx", help="the local Asterisk testbed")
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("up", help="build (once) and start Asterisk; wait until the AMI answers")
    verbs.add_parser("down", help="stop the Asterisk that `up` started")
    verbs.add_parser("status", help="say what runs")
    cli = verbs.add_parser("cli", help="run an Asterisk CLI command")
    cli.add_argument("words", nargs="+")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    cfg = testbed.TestbedConfig.from_env()
    try:
        if args.verb == "up":
            pid = testbed.up(cfg)
            print(
                f"Asterisk is up (pid {pid}); AMI {cfg.ami_host}:{cfg.ami_port}, "
                f"SIP 127.0.0.1:{cfg.sip_port}/udp"
            )
        elif args.verb == "down":
            print("Asterisk stopped" if testbed.down(cfg) else "Asterisk was not running")
        elif args.verb == "status":
            state = testbed.status(cfg)
            print(json.dumps(state, indent=2, ensure_ascii=False))
            return 0 if state["pid"] else 3
        else:
            print(testbed.cli(cfg, " ".join(args.words)))
    except testbed.TestbedError as exc:
        print(f"liandong pbx {args.verb}: {exc}")
        return 1
    return 0
