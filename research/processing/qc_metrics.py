#!/usr/bin/env python3
"""Pegasus QC for one single-cell sample: read_input -> qc_metrics -> get_filter_stats -> qc_metrics.csv.

Runs as the processing step of the research pipeline (inputs under /opt/ml/processing/input, the CSV
to /opt/ml/processing/output) and equally on a laptop:

    python3 qc_metrics.py --input sample.h5 --output out/ --mito-prefix mt- --percent-mito 10

Every QC threshold is an explicit flag. Since pegasuspy 1.4 every qc_metrics default is None and the
mito filter runs only when both the prefix and the percentage are set, so the original walkthrough's
`qc_metrics(data, percent_mito=10)` filters nothing on current Pegasus. The defaults below restore its
intent (pegasuspy 1.0 defaults with the mito cut at 10 %). Pass "none" to switch one filter off.

Exit codes: 0 success, 2 bad arguments or missing input, 3 unreadable input, 4 no cells in the input,
5 a --mito-prefix that matches no gene of the sample (the wrong organism's prefix: MT- human, mt- mouse).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

DEFAULT_INPUT = "/opt/ml/processing/input/data"
DEFAULT_OUTPUT = "/opt/ml/processing/output"
OUTPUT_FILE = "qc_metrics.csv"

# What pegasusio.read_input understands; used to pick the sample inside an input directory.
SUPPORTED_SUFFIXES = (".h5", ".h5ad", ".zarr", ".zarr.zip", ".loom", ".csv", ".csv.gz", ".mtx", ".mtx.gz")
MTX_MARKERS = ("matrix.mtx", "matrix.mtx.gz")

EXIT_USAGE = 2
EXIT_UNREADABLE = 3
EXIT_EMPTY = 4
EXIT_NO_MITO = 5


class QcError(Exception):
    """A failure the user can act on; main() prints it and exits with `code`."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _optional(kind):
    """argparse type: `kind`, or None for "none" (a filter switched off)."""

    def parse(text: str):
        if text.strip().lower() in ("none", ""):
            return None
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__} or 'none', got {text!r}")
        if value < 0:
            raise argparse.ArgumentTypeError(f"must not be negative, got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _prefix(text: str) -> Optional[str]:
    return None if text.strip().lower() in ("none", "") else text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qc_metrics.py", description="Pegasus QC metrics and filter statistics.")
    parser.add_argument("--input", default=DEFAULT_INPUT, help="sample file, or a directory holding exactly one sample")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help=f"directory that receives {OUTPUT_FILE}")
    parser.add_argument("--min-genes", type=_optional(int), default=500, help="keep cells with at least N genes")
    parser.add_argument("--max-genes", type=_optional(int), default=6000, help="keep cells with fewer than N genes")
    parser.add_argument("--min-umis", type=_optional(int), default=None, help="keep cells with at least N UMIs")
    parser.add_argument("--max-umis", type=_optional(int), default=None, help="keep cells with fewer than N UMIs")
    parser.add_argument(
        "--mito-prefix", type=_prefix, default="MT-", help="mitochondrial gene prefix: MT- for human, mt- for mouse"
    )
    parser.add_argument(
        "--percent-mito", type=_optional(float), default=10.0, help="keep cells under this percentage of mito UMIs"
    )
    parser.add_argument(
        "--min-genes-before-filt",
        type=int,
        default=100,
        help="for raw matrices, count only barcodes with at least N genes in the 'before' statistics",
    )
    return parser


def check_thresholds(args: argparse.Namespace) -> None:
    if args.min_genes is not None and args.max_genes is not None and args.min_genes >= args.max_genes:
        raise QcError(f"--min-genes ({args.min_genes}) must be below --max-genes ({args.max_genes})", EXIT_USAGE)
    if args.min_umis is not None and args.max_umis is not None and args.min_umis >= args.max_umis:
        raise QcError(f"--min-umis ({args.min_umis}) must be below --max-umis ({args.max_umis})", EXIT_USAGE)
    if args.percent_mito is not None:
        if not 0 < args.percent_mito <= 100:
            raise QcError(f"--percent-mito must be in (0, 100], got {args.percent_mito}", EXIT_USAGE)
        if args.mito_prefix is None:
            # Pegasus would silently skip the mito filter; say so instead.
            raise QcError("--percent-mito needs --mito-prefix (Pegasus ignores it without a prefix)", EXIT_USAGE)


def resolve_input(path: str) -> str:
    """The sample to read: the path itself, or the single sample inside a processing input directory."""
    if not os.path.exists(path):
        raise QcError(f"input not found: {path}", EXIT_USAGE)
    if not os.path.isdir(path) or path.endswith(".zarr"):
        return path
    entries = sorted(os.listdir(path))
    if any(name in MTX_MARKERS for name in entries):
        return path  # a 10x mtx folder is read as a whole
    samples = [name for name in entries if name.endswith(SUPPORTED_SUFFIXES) and not name.startswith(".")]
    if len(samples) == 1:
        return os.path.join(path, samples[0])
    if not samples:
        raise QcError(
            f"no single-cell file in {path} (looked for {', '.join(SUPPORTED_SUFFIXES)}; found {entries or 'nothing'})",
            EXIT_USAGE,
        )
    raise QcError(f"{len(samples)} samples in {path} ({', '.join(samples)}); give one with --input", EXIT_USAGE)


def check_mito_prefix(prefix: str, genes: Sequence[str]) -> None:
    """Refuses a prefix that matches no gene: the run would compute percent_mito 0 for every cell and
    the mito filter would keep them all, a result that looks valid. The usual cause is the human "MT-"
    prefix on mouse data, where the genes are "mt-"."""
    if any(gene.startswith(prefix) for gene in genes):
        return
    folded = prefix.lower()
    lookalikes = sorted({gene[: len(prefix)] for gene in genes if gene.lower().startswith(folded)})
    hint = f"; this sample's genes start with {', '.join(map(repr, lookalikes))}" if lookalikes else ""
    raise QcError(
        f"no gene name starts with --mito-prefix {prefix!r}, so the mito filter would keep every cell "
        f"(mouse mitochondrial genes start with 'mt-', human with 'MT-'{hint}); pass the prefix of this "
        f"sample's organism, or --mito-prefix none --percent-mito none to run without the mito filter",
        EXIT_NO_MITO,
    )


def run(args: argparse.Namespace) -> str:
    """Computes the QC table and writes it; returns the CSV path."""
    check_thresholds(args)
    sample = resolve_input(args.input)

    # Imported late: pegasus takes seconds to import, and argument errors should not wait for it.
    import pegasus as pg

    try:
        data = pg.read_input(sample)
    except Exception as err:  # pegasusio raises many types (ValueError, OSError, KeyError...) for bad files
        raise QcError(
            f"cannot read {sample} as single-cell data ({type(err).__name__}: {err}); "
            f"supported: 10x .h5, .h5ad, .zarr(.zip), .loom, mtx folders, .csv",
            EXIT_UNREADABLE,
        ) from err
    if data.shape[0] == 0:
        raise QcError(f"{sample} holds no cells", EXIT_EMPTY)

    if args.mito_prefix is not None:
        check_mito_prefix(args.mito_prefix, [str(gene) for gene in data.var_names])

    pg.qc_metrics(
        data,
        min_genes=args.min_genes,
        max_genes=args.max_genes,
        min_umis=args.min_umis,
        max_umis=args.max_umis,
        mito_prefix=args.mito_prefix,
        percent_mito=args.percent_mito,
    )
    stats = pg.get_filter_stats(data, min_genes_before_filt=args.min_genes_before_filt)

    os.makedirs(args.output, exist_ok=True)
    target = os.path.join(args.output, OUTPUT_FILE)
    stats.to_csv(target, index=False)
    for _, row in stats.iterrows():
        print(f"kept {int(row['kept'])} of {int(row['total'])} cells; wrote {target}")
    return target


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except QcError as err:
        print(f"qc_metrics: error: {err}", file=sys.stderr)
        return err.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
