"""Synthetic TV/Sales data of any size, with the joint distribution fitted from the real file.

    python -m tvsales.synthetic --rows 1000000 --seed 1 --out /tmp/tv-1e6.csv   (or .parquet)

The fit (``fit_distribution``), from ``data/tvmarketing.csv`` by default:

- TV spend: the real values' quantile function, interpolated between the sorted values,
  so the range (0.7 to 296.4) and the shape of the spend distribution are the real ones;
- Sales = intercept + slope * TV + noise: the least-squares line of the real rows;
- the noise is normal with a standard deviation that grows linearly with TV, as the real
  residuals do: the line of |residual| on TV gives its shape, scaled so the mean noise
  variance equals the real residual variance (so the correlation is the real one too).

Values are rounded to one decimal like the real ones. Sales below 0.1 (more than four standard
deviations below the line even at the largest budgets: a few rows in a million) are drawn
again, so every value is positive, as in the real data (where 0 sales would also make the
MAPE metric meaningless). The same seed and row count give the same file, byte for byte.
"""

import argparse
import math
from pathlib import Path

from tvsales.config import PROJECT_DIR
from tvsales.data import PARQUET_SUFFIXES

REAL_DATA = PROJECT_DIR / "data" / "tvmarketing.csv"
MIN_SALES = 0.1  # the smallest Sales value drawn (one decimal, positive)
CHUNK_ROWS = 1_000_000  # rows drawn and written at a time: memory stays flat for any row count


def fit_distribution(tv, sales):
    """The generator's parameters, fitted from real ``tv`` and ``sales`` values (plain floats and a list)."""
    import numpy as np

    x = np.asarray(tv, dtype="float64")
    y = np.asarray(sales, dtype="float64")
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    variance = float((residual ** 2).sum() / (len(x) - 2))
    spread_slope, spread_intercept = np.polyfit(x, np.abs(residual), 1)
    scale = math.sqrt(variance / float(np.mean((spread_intercept + spread_slope * x) ** 2)))
    return {
        "tv_sorted": sorted(float(value) for value in x),
        "intercept": float(intercept),
        "slope": float(slope),
        "noise_sd_at_zero": float(scale * spread_intercept),
        "noise_sd_per_tv": float(scale * spread_slope),
    }


def fit_real_data(path=REAL_DATA):
    """``fit_distribution`` of the TV and Sales columns of the real file."""
    import pandas as pd

    table = pd.read_csv(path)
    return fit_distribution(table["TV"], table["Sales"])


def draw(n_rows, rng, fit):
    """``(tv, sales)`` arrays of ``n_rows`` rows drawn with numpy Generator ``rng``."""
    import numpy as np

    quantiles = np.asarray(fit["tv_sorted"])
    levels = np.linspace(0.0, 1.0, len(quantiles))
    tv = np.round(np.interp(rng.random(n_rows), levels, quantiles), 1)
    line = fit["intercept"] + fit["slope"] * tv
    spread = fit["noise_sd_at_zero"] + fit["noise_sd_per_tv"] * tv
    sales = np.round(line + spread * rng.standard_normal(n_rows), 1)
    while (low := np.flatnonzero(sales < MIN_SALES)).size:  # a few rows in a million: draw them again
        sales[low] = np.round(line[low] + spread[low] * rng.standard_normal(low.size), 1)
    return tv, sales


def generate(n_rows, seed, fit=None):
    """Yield pandas DataFrames (columns TV, Sales) of at most CHUNK_ROWS rows, ``n_rows`` in all."""
    import numpy as np
    import pandas as pd

    fit = fit or fit_real_data()
    rng = np.random.default_rng(seed)
    for start in range(0, n_rows, CHUNK_ROWS):
        tv, sales = draw(min(CHUNK_ROWS, n_rows - start), rng, fit)
        yield pd.DataFrame({"TV": tv, "Sales": sales})


def write(path, n_rows, seed, fit=None):
    """Write ``n_rows`` generated rows to ``path``: Parquet for .parquet/.pq, else CSV. Returns the path."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([("TV", pa.float64()), ("Sales", pa.float64())])
    if path.suffix.lower() in PARQUET_SUFFIXES:
        with pq.ParquetWriter(path, schema) as writer:
            for chunk in generate(n_rows, seed, fit):
                writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))
        return path
    with open(path, "wb") as out:
        out.write(b"TV,Sales\n")
        options = pa_csv.WriteOptions(include_header=False)
        for chunk in generate(n_rows, seed, fit):
            pa_csv.write_csv(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False), out, options)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True, help="number of rows, e.g. 1000000")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, help="output file: .csv, or .parquet / .pq")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    if args.seed < 0:
        parser.error("--seed must be 0 or more")
    if Path(args.out).suffix.lower() not in {".csv", *PARQUET_SUFFIXES}:
        parser.error(f"--out {args.out}: name a .csv, .parquet or .pq file")
    if Path(args.out).is_dir():
        parser.error(f"--out {args.out}: this is a directory; name a file in it")
    try:
        path = write(args.out, args.rows, args.seed)
    except OSError as error:
        parser.error(f"--out {args.out}: cannot write it: {error.strerror or error}")
    print(f"wrote {args.rows} rows to {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
