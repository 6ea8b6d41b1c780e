"""Benchmark: reading roster files of hostile shapes (issue 24), each in a child process of its own.

Prints, per shape, the file's size, what ``read_roster`` said (rows read, or the error's first line), the child's
CPU seconds and its peak resident memory. A child is stopped at ``--cpu-limit`` CPU seconds and
``--memory-limit`` MiB of address space, so a shape that would take the machine shows as stopped instead.

Shapes:
  newlines         a header, 29.9 MB of empty lines, a person (the CSV that took 127 s)
  delimiters       the same with lines holding only semicolons and spaces
  quoted-newlines  the same with 299 cells of 100 000 line breaks each, in quotes
  wide-csv         a header and one row of 2 000 000 semicolons
  xfd              an XLSX of --rows rows: a header, then rows of one cell each, in the last column (XFD)
  xfd-valid        an XLSX roster whose every row also holds a cell in XFD (the roster is read)
  valid-csv        a valid roster of --rows rows (the header and people), CSV: the baseline
  valid-xlsx       the same as XLSX

Usage: python benchmarks/bench_hostile_rosters.py [--rows 50000] [--only xfd,newlines] [--memory-limit 4096]
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import resource
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_GROUPS = {"socialsekreterare": "Socialsekreterare och biståndsbedömare", "bvc": "Barnavårdscentral (BVC)"}
HEADER = ["E-post", "Förnamn", "Efternamn", "Kommun", "Enhet", "Målgrupp"]


def person(n: int) -> list[str]:
    return [f"person{n}@falun.example.se", "Anna", f"Exempel{n}", "Falu kommun", "IFO", "socialsekreterare"]


def _around(flood: bytes) -> bytes:
    """A header row, ``flood``, and one person: the rows with content are at both ends."""
    return (";".join(HEADER) + "\n").encode() + flood + (";".join(person(1)) + "\n").encode()


def write_newlines(path: Path, rows: int) -> None:
    path.write_bytes(_around(b"\n" * 29_900_000))


def write_delimiters(path: Path, rows: int) -> None:
    path.write_bytes(_around(b";;; ;\n" * (29_900_000 // 6)))


def write_quoted_newlines(path: Path, rows: int) -> None:
    path.write_bytes(_around((b'"' + b"\n" * 99_997 + b'"\n') * 299))


def write_wide_csv(path: Path, rows: int) -> None:
    path.write_bytes((";".join(HEADER) + "\n" + ";" * 2_000_000 + "x\n").encode())


def write_valid_csv(path: Path, rows: int) -> None:
    lines = [";".join(HEADER)] + [";".join(person(n)) for n in range(rows - 1)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())


def _workbook(rows: list[list[str]], extra: Callable[[int], str] = lambda r: "") -> bytes:
    """A workbook made by openpyxl whose sheet XML is replaced: inline strings, plus ``extra(row)`` per row."""
    import openpyxl

    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    sheet = io.StringIO()
    sheet.write('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    for r, cells in enumerate(rows, start=1):
        sheet.write(f'<row r="{r}">')
        for c, value in enumerate(cells):
            sheet.write(f'<c r="{chr(65 + c)}{r}" t="inlineStr"><is><t>{value}</t></is></c>')
        sheet.write(extra(r) + "</row>")
    sheet.write("</sheetData></worksheet>")
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = sheet.getvalue().encode() if info.filename == "xl/worksheets/sheet1.xml" else source.read(info)
            target.writestr(info.filename, data)
    return result.getvalue()


def _xfd(r: int) -> str:
    return f'<c r="XFD{r}" t="inlineStr"><is><t>x</t></is></c>'


def write_xfd(path: Path, rows: int) -> None:
    path.write_bytes(_workbook([HEADER] + [[] for _ in range(rows - 1)], _xfd))


def write_xfd_valid(path: Path, rows: int) -> None:
    path.write_bytes(_workbook([HEADER] + [person(n) for n in range(rows - 1)], _xfd))


def write_valid_xlsx(path: Path, rows: int) -> None:
    path.write_bytes(_workbook([HEADER] + [person(n) for n in range(rows - 1)]))


SHAPES: dict[str, tuple[str, Callable[[Path, int], None]]] = {
    "newlines": (".csv", write_newlines), "delimiters": (".csv", write_delimiters),
    "quoted-newlines": (".csv", write_quoted_newlines),
    "wide-csv": (".csv", write_wide_csv), "xfd": (".xlsx", write_xfd), "xfd-valid": (".xlsx", write_xfd_valid),
    "valid-csv": (".csv", write_valid_csv), "valid-xlsx": (".xlsx", write_valid_xlsx),
}


def _read(path: str, memory_mib: int, cpu_s: int, answer: Any) -> None:
    """In the child: limit it, read the roster, report what happened."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_mib * 2**20, memory_mib * 2**20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
    from moodle_sync.rosters.parse import read_roster

    try:
        roster = read_roster(path, target_groups=TARGET_GROUPS)
        said = f"read: {len(roster.rows)} rows, {len(roster.problems)} problems"
    except MemoryError:
        said = "stopped: MemoryError at the memory limit"
    except Exception as e:  # noqa: BLE001 - the benchmark reports whatever happened
        said = f"{type(e).__name__}: {str(e).splitlines()[0][:110]}"
    usage = resource.getrusage(resource.RUSAGE_SELF)
    answer.send({"said": said, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mib": _peak_kib() / 1024})


def _peak_kib() -> float:
    """This process's peak resident memory. ru_maxrss would also count the parent's, which Linux carries over
    the exec of a spawned child; VmHWM belongs to this process's own memory."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
        return float(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    except (OSError, StopIteration):
        return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def measure(path: Path, memory_mib: int, cpu_s: int) -> dict[str, Any]:
    ours, theirs = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(target=_read, args=(str(path), memory_mib, cpu_s, theirs))
    start = time.perf_counter()
    child.start()
    theirs.close()
    result: dict[str, Any] = ours.recv() if ours.poll(cpu_s + 60) else {}
    child.join(10)
    if not result:  # killed by the CPU limit (SIGXCPU) or the kernel
        child.kill()
        result = {"said": f"stopped (exit {child.exitcode}) at the CPU limit of {cpu_s} s", "cpu_s": None,
                  "peak_mib": None}
    result["wall_s"] = time.perf_counter() - start
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000, help="rows of the XLSX and valid shapes")
    parser.add_argument("--only", default="", help="comma-separated shapes (default: all)")
    parser.add_argument("--memory-limit", type=int, default=4096, help="MiB of address space per child")
    parser.add_argument("--cpu-limit", type=int, default=300, help="CPU seconds per child")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(SHAPES)
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            suffix, write = SHAPES[name]
            path = Path(tmp) / f"{name}{suffix}"
            write(path, args.rows)
            result = measure(path, args.memory_limit, args.cpu_limit)
            figures.append({"shape": name, "bytes": path.stat().st_size, **result})
            path.unlink()
            row = figures[-1]
            cpu = f"{row['cpu_s']:7.2f} s" if row["cpu_s"] is not None else "      ?  "
            peak = f"{row['peak_mib']:7.0f} MiB" if row["peak_mib"] is not None else "      ?    "
            print(f"{name:<15} {row['bytes'] / 1e6:7.2f} MB  cpu {cpu}  peak {peak}  "
                  f"{row['said']}", file=sys.stderr if args.json else sys.stdout, flush=True)
    if args.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
