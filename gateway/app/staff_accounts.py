"""Staff accounts of the admin pages.

    cd gateway && ../.venv/gateway/bin/python -m app.staff_accounts add <name>
    cd gateway && ../.venv/gateway/bin/python -m app.staff_accounts passwd <name>
    cd gateway && ../.venv/gateway/bin/python -m app.staff_accounts remove <name>
    cd gateway && ../.venv/gateway/bin/python -m app.staff_accounts list

The password is asked twice on a terminal, or read from the first line of
stdin (`printf '%s\\n' "$PASSWORD" | ... add tanaka`). Stored as an argon2id
hash in STAFF_ACCOUNTS_FILE (default var/staff_accounts.json in the checkout).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from app.core.config import get_settings
from app.services.staff import AccountError, account_names, add_account, remove_account


def _password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("パスワード / password: ")
    if getpass.getpass("もう一度 / again: ") != first:
        raise AccountError("the two passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.staff_accounts", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in ("add", "passwd", "remove"):
        sub.add_parser(command).add_argument("name")
    sub.add_parser("list")
    args = parser.parse_args(argv)
    path = get_settings().STAFF_ACCOUNTS_FILE
    try:
        if args.command == "list":
            print("\n".join(account_names(path)))
        elif args.command == "remove":
            remove_account(path, args.name)
            print(f"removed {args.name} from {path}")
        else:
            add_account(path, args.name, _password(), replace=args.command == "passwd")
            print(f"{'added' if args.command == 'add' else 'changed'} {args.name} in {path}")
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
