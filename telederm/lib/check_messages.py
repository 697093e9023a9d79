"""Fail when the Swedish catalogue has untranslated or fuzzy entries (part of `make check`)."""

from __future__ import annotations

import sys

import polib


def main(path: str) -> int:
    catalogue = polib.pofile(path)
    missing = [entry for entry in catalogue if not entry.translated() and not entry.obsolete]
    fuzzy = catalogue.fuzzy_entries()
    for entry in missing[:50]:
        print(f"untranslated: {entry.msgid!r}")
    for entry in fuzzy[:50]:
        print(f"fuzzy: {entry.msgid!r}")
    if missing or fuzzy:
        print(f"{path}: {len(missing)} untranslated, {len(fuzzy)} fuzzy")
        return 1
    print(f"{path}: all {len(catalogue)} entries translated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
