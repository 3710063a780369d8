"""argparse actions that fall back on CADENZA_MOCK_<OPTION> environment variables.

Apart from the command's parser (`cli.py`) because they are the one place that knows how
a variable's text becomes an option's value, and how a bad one is reported.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from cadenza_mock.contract.options import ServerOptions

ENV_PREFIX = "CADENZA_MOCK_"
DEFAULTS = ServerOptions()


class EnvDefault(argparse.Action):
    """An option whose default comes from CADENZA_MOCK_<DEST>, converted and checked."""

    repeatable = False  # EnvList: each use adds a value

    def __init__(self, *, convert: Callable[[str], Any] = str, **kwargs: Any) -> None:
        self.env = ENV_PREFIX + kwargs["dest"].upper()
        kwargs["help"] = kwargs.get("help", "") + f" [env: {self.env}]"
        if convert is not str and kwargs.get("nargs") != 0 and not self.repeatable:
            kwargs.setdefault("type", _checked(convert))  # the flag checked as the variable
        self.convert = convert
        super().__init__(**kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        # A switch (nargs=0) given on the command line means "on".
        if self.repeatable:
            values = [*(getattr(namespace, self.dest) or []), values]
        setattr(namespace, self.dest, True if self.nargs == 0 else values)


class EnvList(EnvDefault):
    """A repeatable option; CADENZA_MOCK_<DEST> gives several values, split by os.pathsep
    (folders) or by `split` (values that hold a colon, such as origins)."""

    repeatable = True

    def __init__(self, *, split: Callable[[str], list[str]] | None = None, **kwargs: Any) -> None:
        super().__init__(convert=split or _path_list, default=None, **kwargs)


def _path_list(text: str) -> list[str]:
    return [part for part in text.split(os.pathsep) if part]


def _word_list(text: str) -> list[str]:
    """Values separated by commas or spaces (origins and host names hold no comma)."""
    return text.replace(",", " ").split()


class EnvFlag(EnvDefault):
    """A boolean switch that CADENZA_MOCK_<DEST>=1/true/yes also turns on."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(nargs=0, convert=_flag, default=False, **kwargs)


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true or false")


# The converters' messages do not repeat the value: the caller shows it, as `argument
# --port: 'abc': expected an integer` or `CADENZA_MOCK_PORT='abc': expected an integer`.


def _integer(text: str) -> int:
    """int() with a message a user reads ("expected an integer"), not Python's own."""
    try:
        return int(text)
    except ValueError:
        raise ValueError("expected an integer") from None


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("expected a number of seconds") from None


def _for(name: str, parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """`parse`, then ServerOptions' own check of field `name`: the one place of the limits."""
    check = ServerOptions.check(name)

    def convert(text: str) -> Any:
        value = parse(text)
        if check is not None:
            check(value)
        return value

    convert.__name__ = parse.__name__
    return convert


def _checked(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """argparse `type=` wrapper that shows our own message for a bad value."""

    def parse(text: str) -> Any:
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None

    parse.__name__ = convert.__name__.strip("_")
    return parse


def _apply_env(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fill options not given on the command line from the environment."""
    args.from_env = set()
    for action in args.env_options:
        if action.env not in os.environ:
            continue
        if getattr(args, action.dest) is not action.default:
            continue  # given on the command line
        raw = os.environ[action.env]
        try:
            value = action.convert(raw)
        except ValueError as exc:
            _fail(parser, f"{action.env}={raw!r}: {exc}")
        if action.choices is not None and value not in action.choices:
            _fail(parser, f"{action.env}={raw!r}: choose from {', '.join(action.choices)}")
        setattr(args, action.dest, value)
        args.from_env.add(action.dest)


def _fail(parser: argparse.ArgumentParser, message: str) -> NoReturn:
    """A bad environment variable: one line and exit 2. The usage block argparse prints
    for a bad flag would only bury it: nothing on the command line was wrong."""
    print(f"{parser.prog}: {message}", file=sys.stderr)
    sys.exit(2)
