"""OFX reader on hostile shapes of growing size (issue #11, docs/performance.md « OFX: linear in its input »).

    .venv/bin/python bench/ofx_scaling.py [--sizes 1000000,4000000] [--old FILE]

``--old`` names a copy of an older ``ofx.py`` (``git show REV:src/relance/core/formats/bank/ofx.py > FILE``) to
time it on the same inputs. CPU seconds (``time.process_time``) of one parse per shape and size.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

HEAD = "OFXHEADER:100\nDATA:OFXSGML\nCHARSET:1252\n\n<OFX>"


def shapes(size: int) -> dict[str, bytes]:
    return {
        "unclosed nested tags + unmatched closings": (
            HEAD + "<STMTRS>" + "<A>" * (size // 8) + "</B>" * (size // 8)).encode(),
        "a tag never closed (< without >)": (HEAD + "<A" + "x" * size).encode(),
        "nested statements": (HEAD + "<STMTRS><BANKTRANLIST><STMTTRN><TRNAMT>1" * (size // 40)).encode(),
        "text on one element": (HEAD + "<A><B>t</B>" + "x</C>" * (size // 5)).encode(),
        "statement of many lines": (HEAD + "<STMTRS><CURDEF>EUR<BANKTRANLIST>" + (
            "<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261102<TRNAMT>120.50<FITID>F1<NAME>DURAND<MEMO>FA-1</STMTTRN>"
            * (size // 100))).encode(),
    }


def load_old(path: Path) -> ModuleType:
    source = path.read_text().replace("from ..problems", "from relance.core.formats.problems").replace(
        "from .model", "from relance.core.formats.bank.model")
    spec = importlib.util.spec_from_loader("ofx_old", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ofx_old"] = module  # dataclasses look their module up
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,4000000")
    ap.add_argument("--old", type=Path)
    args = ap.parse_args()
    from relance.core.formats.bank import ofx

    readers: list[tuple[str, ModuleType]] = [("current", ofx)]
    if args.old:
        readers.append(("old", load_old(args.old)))
    print("| shape | reader | size (MB) | CPU s | s/MB |\n|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        for name, data in shapes(size).items():
            for label, module in readers:
                started = time.process_time()
                try:
                    module.parse(data, "hostile.ofx")
                except Exception:  # BankFormatError of either module
                    pass
                seconds = time.process_time() - started
                mb = len(data) / 1e6
                print(f"| {name} | {label} | {mb:.2f} | {seconds:.3f} | {seconds / mb:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
