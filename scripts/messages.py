"""Extract the interface texts into the English catalog, then compile it (``make messages``).

The French text is the msgid: templates use ``{% translate "…" %}`` / ``{% blocktranslate %}``, Python
uses ``gettext`` / ``gettext_lazy`` (imported as ``_``). This script

1. runs ``django-admin makemessages -l en`` over ``src/relance`` (tests, migrations and the pure
   ``core`` are ignored), which needs GNU gettext's ``xgettext`` and ``msgmerge``
   (Debian: ``apt-get install gettext``): new texts appear in
   ``src/relance/locale/en/LC_MESSAGES/django.po`` with an empty translation, removed ones go;
2. compiles the ``.po`` into ``django.mo`` with Babel (no gettext tool needed), so that the
   committed ``.mo`` is what runs;
3. lists the texts still untranslated or fuzzy, and exits with 1 if there are any.

``--compile-only`` skips step 1 (after editing translations in the ``.po`` by hand).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "relance"
CATALOG = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"
IGNORED = ["tests", "migrations", "core", "static"]


def extract() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "relance.settings", "PYTHONPATH": str(ROOT / "src")}
    command = [
        sys.executable,
        "-m",
        "django",
        "makemessages",
        "--locale",
        "en",
        "--no-obsolete",
        "--no-wrap",
        "--add-location",
        "file",
    ]
    for pattern in IGNORED:
        command += ["--ignore", pattern]
    subprocess.run(command, cwd=PACKAGE, env=env, check=True)


def load(path: Path = CATALOG) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale="en", domain="django")


def compile_catalog(catalog: Catalog, target: Path) -> None:
    with target.open("wb") as out:
        write_mo(out, catalog, use_fuzzy=False)


def unfinished(catalog: Catalog) -> list[str]:
    """The msgids without a complete, non-fuzzy translation."""
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(message.id if isinstance(message.id, str) else message.id[0])
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compile-only", action="store_true", help="do not extract, only compile the .po")
    args = parser.parse_args()
    if not args.compile_only:
        extract()
    catalog = load()
    compile_catalog(catalog, CATALOG.with_suffix(".mo"))
    missing = unfinished(catalog)
    for msgid in missing:
        print(f"untranslated or fuzzy: {msgid!r}", file=sys.stderr)
    print(f"{CATALOG.relative_to(ROOT)}: {len(catalog) - len(missing)} translated, {len(missing)} to do")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
