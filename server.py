"""liandong: the aiohttp app factory and the `liandong` command line."""

from __future__ import annotations

import argparse
import logging
import sys

from pbx import cli as pbx_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liandong", description="110 / 12345 linkage server")
    subparsers = parser.add_subparsers(dest="command", required=True)
    pbx_cli.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
