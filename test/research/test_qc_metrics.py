"""The QC script (research/processing/qc_metrics.py) on data with known answers, on the real sample, and on bad input."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "research" / "processing" / "qc_metrics.py"
HEART = ROOT.parent / "shared" / "data" / "heart_1k_v2.h5"

sys.path.insert(0, str(SCRIPT.parent))
import qc_metrics  # noqa: E402

GENES = ["MT-CO1", "MT-ND1", "GENE1", "GENE2", "GENE3", "GENE4", "GENE5", "GENE6", "GENE7", "GENE8"]

# Each synthetic cell: {gene: UMIs}. With --min-genes 3 --max-genes 8 --min-umis 10 --mito-prefix MT-
# --percent-mito 20, the comment says why a cell is kept or filtered.
CELLS = {
    "AAAC-1": {"GENE1": 10, "GENE2": 10, "GENE3": 10, "GENE4": 10, "GENE5": 10},  # kept: 5 genes, 50 UMIs, 0 %
    "AAAG-1": {"GENE1": 10, "GENE2": 10},  # filtered: 2 genes < 3
    "AAAT-1": {g: 5 for g in GENES[1:]},  # filtered: 9 genes, not < 8
    "AACA-1": {"GENE1": 10, "GENE2": 10, "GENE3": 10, "GENE4": 10, "MT-CO1": 20},  # filtered: 33 % mito
    "AACC-1": {"GENE1": 10, "GENE2": 10, "GENE3": 10, "MT-ND1": 5},  # kept: 4 genes, 35 UMIs, 14 % mito
    "AACG-1": {"GENE1": 1, "GENE2": 1, "GENE3": 1, "GENE4": 1},  # filtered: 4 UMIs < 10
    "AACT-1": {"GENE6": 3, "GENE7": 3, "GENE8": 3, "MT-CO1": 1},  # kept: 4 genes, exactly 10 UMIs, 10 % mito
}
STRICT = ["--min-genes", "3", "--max-genes", "8", "--min-umis", "10", "--mito-prefix", "MT-", "--percent-mito", "20"]
DOCUMENTED_COLUMNS = [
    "kept",
    "median_n_genes",
    "median_n_umis",
    "median_percent_mito",
    "filt",
    "total",
    "median_n_genes_before",
    "median_n_umis_before",
    "median_percent_mito_before",
]


def write_10x_h5(path: Path, genes: list[str], cells: dict[str, dict[str, int]]) -> None:
    """A 10x Genomics v3 feature-barcode HDF5 file: a genes x cells CSC matrix under /matrix."""
    data, indices, indptr = [], [], [0]
    for counts in cells.values():
        for row, gene in enumerate(genes):
            if counts.get(gene):
                data.append(counts[gene])
                indices.append(row)
        indptr.append(len(data))
    with h5py.File(path, "w") as h5:
        matrix = h5.create_group("matrix")
        matrix.create_dataset("barcodes", data=np.array(list(cells), dtype="S"))
        matrix.create_dataset("data", data=np.array(data, dtype=np.int32))
        matrix.create_dataset("indices", data=np.array(indices, dtype=np.int64))
        matrix.create_dataset("indptr", data=np.array(indptr, dtype=np.int64))
        matrix.create_dataset("shape", data=np.array([len(genes), len(cells)], dtype=np.int32))
        features = matrix.create_group("features")
        features.create_dataset("id", data=np.array([f"ENSG{i:05d}" for i in range(len(genes))], dtype="S"))
        features.create_dataset("name", data=np.array(genes, dtype="S"))
        features.create_dataset("feature_type", data=np.array(["Gene Expression"] * len(genes), dtype="S"))
        features.create_dataset("genome", data=np.array(["GRCh38"] * len(genes), dtype="S"))


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "synthetic.h5"
    write_10x_h5(path, GENES, CELLS)
    return path


def test_keeps_exactly_the_cells_that_pass_every_threshold(synthetic, tmp_path):
    assert qc_metrics.main(["--input", str(synthetic), "--output", str(tmp_path), *STRICT]) == 0
    [row] = read_rows(tmp_path / "qc_metrics.csv")
    assert list(row) == DOCUMENTED_COLUMNS
    assert int(row["kept"]) == 3
    assert int(row["filt"]) == 4
    assert int(row["total"]) == 7
    # Kept cells have 5, 4 and 4 genes; 50, 35 and 10 UMIs.
    assert float(row["median_n_genes"]) == 4
    assert float(row["median_n_umis"]) == 35


def test_each_threshold_is_applied_on_its_own(synthetic, tmp_path):
    off = ["--min-genes", "none", "--max-genes", "none", "--mito-prefix", "none", "--percent-mito", "none"]
    assert qc_metrics.main(["--input", str(synthetic), "--output", str(tmp_path), *off]) == 0
    [row] = read_rows(tmp_path / "qc_metrics.csv")
    assert (int(row["kept"]), int(row["total"])) == (7, 7)
    assert "median_percent_mito" not in row  # no prefix: Pegasus computes no mito columns

    only_mito = ["--min-genes", "none", "--max-genes", "none", "--mito-prefix", "MT-", "--percent-mito", "20"]
    assert qc_metrics.main(["--input", str(synthetic), "--output", str(tmp_path), *only_mito]) == 0
    [row] = read_rows(tmp_path / "qc_metrics.csv")
    assert int(row["kept"]) == 6  # only the 33 % mito cell goes


def test_reads_the_single_sample_of_a_processing_input_directory(synthetic, tmp_path):
    inputs = tmp_path / "input"
    inputs.mkdir()
    os.symlink(synthetic, inputs / "sample.h5")
    out = tmp_path / "output"
    assert qc_metrics.main(["--input", str(inputs), "--output", str(out), *STRICT]) == 0
    assert int(read_rows(out / "qc_metrics.csv")[0]["kept"]) == 3


def test_a_mito_prefix_that_matches_no_gene_fails_the_run_and_says_why(synthetic, tmp_path, capsys):
    # Human data (MT-) run with the mouse prefix: the mito filter would keep every cell, silently.
    args = ["--input", str(synthetic), "--output", str(tmp_path), "--mito-prefix", "mt-", "--percent-mito", "10"]
    assert qc_metrics.main(args) == qc_metrics.EXIT_NO_MITO
    err = capsys.readouterr().err
    assert "no gene name starts with --mito-prefix 'mt-'" in err
    assert "this sample's genes start with 'MT-'" in err
    assert not (tmp_path / "qc_metrics.csv").exists()


@pytest.mark.skipif(not HEART.exists(), reason=f"sample data absent: {HEART} (see ../shared/data/README.md)")
def test_mouse_heart_sample_with_the_human_prefix_fails_and_names_the_mouse_one(tmp_path):
    result = run_script("--input", str(HEART), "--output", str(tmp_path), "--mito-prefix", "MT-", "--percent-mito", "10")
    assert result.returncode == qc_metrics.EXIT_NO_MITO
    assert "this sample's genes start with 'mt-'" in result.stderr
    assert not (tmp_path / "qc_metrics.csv").exists()


@pytest.mark.skipif(not HEART.exists(), reason=f"sample data absent: {HEART} (see ../shared/data/README.md)")
def test_mouse_heart_sample_is_filtered_with_the_mouse_mito_prefix(tmp_path):
    result = run_script("--input", str(HEART), "--output", str(tmp_path), "--mito-prefix", "mt-", "--percent-mito", "10")
    assert result.returncode == 0, result.stderr
    [row] = read_rows(tmp_path / "qc_metrics.csv")
    assert list(row) == DOCUMENTED_COLUMNS
    assert int(row["total"]) == 712
    assert 0 < int(row["kept"]) < 712
    assert int(row["filt"]) == 712 - int(row["kept"])
    assert float(row["median_percent_mito"]) < 10
    assert f"kept {row['kept']} of 712 cells" in result.stdout


def test_missing_input_fails_with_the_path_and_a_non_zero_exit(tmp_path):
    result = run_script("--input", str(tmp_path / "absent.h5"), "--output", str(tmp_path))
    assert result.returncode == qc_metrics.EXIT_USAGE
    assert f"input not found: {tmp_path / 'absent.h5'}" in result.stderr
    assert not (tmp_path / "qc_metrics.csv").exists()


def test_unreadable_file_fails_with_a_clear_error_and_a_non_zero_exit(tmp_path):
    bogus = tmp_path / "not-really.h5"
    bogus.write_bytes(b"this is not HDF5")
    result = run_script("--input", str(bogus), "--output", str(tmp_path))
    assert result.returncode == qc_metrics.EXIT_UNREADABLE
    assert f"cannot read {bogus} as single-cell data" in result.stderr
    assert not (tmp_path / "qc_metrics.csv").exists()


def test_directory_without_a_sample_or_with_several_is_refused(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(qc_metrics.QcError, match="no single-cell file in"):
        qc_metrics.resolve_input(str(empty))
    (empty / "a.h5").write_bytes(b"")
    (empty / "b.h5ad").write_bytes(b"")
    with pytest.raises(qc_metrics.QcError, match=r"2 samples in .*a\.h5, b\.h5ad"):
        qc_metrics.resolve_input(str(empty))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--min-genes", "600", "--max-genes", "500"], "--min-genes (600) must be below --max-genes (500)"),
        (["--min-umis", "9", "--max-umis", "9"], "--min-umis (9) must be below --max-umis (9)"),
        (["--percent-mito", "150"], "--percent-mito must be in (0, 100], got 150.0"),
        (["--mito-prefix", "none", "--percent-mito", "10"], "--percent-mito needs --mito-prefix"),
    ],
)
def test_contradictory_thresholds_are_refused_before_reading(args, message, synthetic, tmp_path, capsys):
    assert qc_metrics.main(["--input", str(synthetic), "--output", str(tmp_path), *args]) == qc_metrics.EXIT_USAGE
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("flag, value", [("--min-genes", "many"), ("--max-umis", "-5"), ("--percent-mito", "ten")])
def test_malformed_numbers_name_the_flag_and_the_value(flag, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        qc_metrics.main([flag, value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert flag in err and repr(value) in err
