"""Everything the OEWS time series contributes to a release: the sample mirror staged whole."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from core.errors import ValidationError
from core.staging import PatchBase, StagedLoad
from transforms import oews_catalog
from transforms.oews import series_id as series_id_of  # the name the README documents
from transforms.oews import stage_oews
from transforms.oews_lookups import DATATYPES

if TYPE_CHECKING:
    from tests.transforms.conftest import OeFiles


def test_stage_oews_on_the_sample_mirror(
    oe_dir: Path, tmp_path: Path, sample_estimates: int, oe_files: OeFiles
) -> None:
    files = oe_files.mirror_files(oe_dir)
    sources: dict[str, dict[str, object]] = {
        name: {"url": f"https://download.bls.gov/pub/time.series/oe/{name}", "status": 200}
        for name in files
    }
    staged = stage_oews(files, tmp_path / "staging", release_id="2025-04-02.1", sources=sources)

    assert isinstance(staged, StagedLoad)
    assert staged.kind == "oews"
    assert staged.vintage == "May 2024"
    # Its guarded table is its load policy's: tests/flows/test_sources.py.
    assert staged.rows() == {
        "occupations": 37,
        "areas": 4,
        "industries": 4,
        "oews_footnotes": 6,
        "oews_estimates": sample_estimates,
    }
    for table in staged.tables:
        assert table.path.is_file()
        assert table.path.parent == tmp_path / "staging"
        assert len(pd.read_parquet(table.path)) == table.rows
    replaces = {t.table: t.replaces for t in staged.tables}
    assert replaces["oews_estimates"] == {"reference_year": 2024}
    assert replaces["occupations"] == {"soc_version": "2018"}
    assert replaces["oews_footnotes"] == {"reference_year": 2024}

    assert set(staged.sources) == set(files)
    for name, row in staged.sources.items():
        assert row["vintage"] == "May 2024"
        assert row["url"] == sources[name]["url"]
    assert "vintage" not in sources["oe.area"]  # the caller's rows are not modified

    paths = {t.table: t.path for t in staged.tables}
    occupations = pd.read_parquet(paths["occupations"]).set_index("soc_code")
    assert occupations.loc["29-2072", "title"] == "Medical Records Specialists"
    assert occupations.loc["29-2072", "level"] == "detailed"
    assert occupations.loc["00-0000", "level"] == "total"
    assert set(occupations["release_id"]) == {"2025-04-02.1"}
    industries = pd.read_parquet(paths["industries"])
    assert set(industries["industry_code"]) == {"000000", "000001", "62--63", "622000"}
    areas = pd.read_parquet(paths["areas"])
    assert set(areas["area_code"]) == {"0000000", "0600000", "2500000", "0071650"}

    estimates = oe_files.staged_rows(paths["oews_estimates"])
    statuses = pd.Series([r["status"] for r in estimates.values()]).value_counts().to_dict()
    assert statuses == {"ok": 2874, "top_coded": 152, "not_released": 17}
    assert {r["measure"] for r in estimates.values()} == set(oe_files.MEASURES)


def test_staged_values_equal_the_data_file_strings(
    oe_dir: Path, tmp_path: Path, sample_estimates: int, oe_files: OeFiles
) -> None:
    staged = stage_oews(
        oe_files.mirror_files(oe_dir), tmp_path / "staging", release_id="r1", sources={}
    )
    (path,) = (t.path for t in staged.tables if t.table == "oews_estimates")
    rows = oe_files.staged_rows(path)

    # A handful of real figures (national, all industries).
    def figure(occ: str, datatype: str) -> dict[str, object]:
        return rows[oe_files.series_id(occ, datatype)]

    assert figure("292072", "13")["value"] == Decimal("50250")  # 29-2072 annual median
    assert figure("292072", "08")["value"] == Decimal("24.16")
    assert figure("000000", "04")["value"] == Decimal("67920")  # U.S. annual mean
    assert figure("000000", "03")["value"] == Decimal("32.66")
    assert figure("000000", "13")["value"] == Decimal("49500")
    assert figure("151232", "13")["value"] == Decimal("60340")
    assert figure("113021", "13")["value"] == Decimal("171200")
    physicians = figure("291210", "13")
    assert (physicians["value"], physicians["status"]) == (None, "top_coded")
    assert physicians["top_code_threshold"] == Decimal("239200")
    assert figure("292072", "13")["soc_code"] == "29-2072"
    assert figure("292072", "13")["measure"] == "annual_median"

    # And every cell: the staged value is exactly the string BLS wrote.
    lines = (oe_dir / "oe.data.0.Current").read_text().splitlines()[1:]
    assert len(lines) == len(rows) == sample_estimates
    for line in lines:
        sid, year, period, value, footnotes = (cell.strip() for cell in line.split("\t"))
        row = rows[sid]
        assert (year, period) == ("2024", "A01")
        if value == "-":
            assert row["value"] is None
            expected = {"5": "top_coded", "8": "not_released"}.get(footnotes, "suppressed")
            assert row["status"] == expected, line
        else:
            assert row["value"] == Decimal(value), line
            assert row["status"] == "ok"
        assert row["footnote_codes"] == (footnotes or None)


def test_stage_oews_fails_on_bad_lookup_and_stages_no_estimates(
    oe_dir: Path, tmp_path: Path, oe_files: OeFiles
) -> None:
    text = (oe_dir / "oe.datatype").read_bytes()
    (oe_dir / "oe.datatype").write_bytes(
        text.replace(b"Location Quotient", b"Location quotient (LQ)")
    )
    out_dir = tmp_path / "staging"
    with pytest.raises(ValidationError) as info:
        stage_oews(oe_files.mirror_files(oe_dir), out_dir, release_id="r1", sources={})
    assert info.value.file == "oe.datatype"
    assert not (out_dir / "oews_estimates.parquet").exists()


def test_schema_drift_reaches_the_staged_load(
    oe_dir: Path, tmp_path: Path, oe_files: OeFiles
) -> None:
    area = oe_dir / "oe.area"
    lines = area.read_bytes().decode("utf-8").splitlines()
    area.write_bytes(
        "\r\n".join([lines[0] + "\tarea_fips", *(line + "\tx" for line in lines[1:])]).encode()
        + b"\r\n"
    )
    staged = stage_oews(
        oe_files.mirror_files(oe_dir), tmp_path / "staging", release_id="r1", sources={}
    )
    assert staged.schema_drift == {"oe.area": ["area_fips"]}
    assert staged.rows()["areas"] == 4


def test_a_new_data_file_column_reaches_the_staged_load_whole_or_as_a_patch(
    oe_dir: Path, tmp_path: Path, oe_files: OeFiles
) -> None:
    data = oe_dir / "oe.data.0.Current"
    lines = data.read_bytes().splitlines(keepends=True)
    data.write_bytes(
        b"".join(x.rstrip(b"\r\n") + b"\tx\n" for x in lines).replace(
            lines[0].rstrip(b"\r\n") + b"\tx", lines[0].rstrip(b"\r\n") + b"\tloaded_at", 1
        )
    )
    base = tmp_path / "base"
    base.write_bytes(data.read_bytes())
    files = oe_files.mirror_files(oe_dir)
    whole = stage_oews(files, tmp_path / "whole", release_id="r1", sources={})
    revised = data.read_bytes().splitlines(keepends=True)
    sid, year, period, value, *rest = revised[1500].split(b"\t")
    revised[1500] = b"\t".join([sid, year, period, b"1".rjust(len(value)), *rest])
    data.write_bytes(b"".join(revised))
    patched = stage_oews(
        files, tmp_path / "patch", release_id="r2", sources={}, base=PatchBase(base, "0" * 64)
    )

    (estimates,) = [t for t in patched.tables if t.table == "oews_estimates"]
    assert estimates.patch is not None  # only the lines around the edit were staged
    for staged in (whole, patched):
        assert staged.schema_drift == {"oe.data.0.Current": ["loaded_at"]}


def test_the_time_series_reads_the_catalogue() -> None:
    """transforms.oews_lookups.DATATYPES is the catalogue's view, and series ids take its codes."""
    view = {code: (d.name, d.measure, d.unit) for code, d in oews_catalog.BY_CODE.items()}
    assert view == DATATYPES
    assert series_id_of("N", "0000000", "000000", "29-2072", "annual_median") == (
        "OEUN000000000000029207213"
    )
    assert series_id_of("S", "0600000", "000000", "29-2072", "location_quotient").endswith("17")
    assert series_id_of("N", "0000000", "000000", "29-2072", "nonsense").endswith("??")
