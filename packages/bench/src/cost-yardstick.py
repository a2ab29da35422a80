"""The yardstick `npm run bench:cost` times the CLI against: a script pricing the same readings CSV the way a
data analyst would (pandas when installed, else Python's csv module and dicts), writing the priced CSV.

usage: cost-yardstick.py READINGS_CSV DAYS_CSV BANDS_JSON PRICES_JSON OUT_CSV TIME_ZONE
  DAYS_CSV: date,day  (the day's index into BANDS_JSON: season and day type, holidays as Sunday)
  BANDS_JSON: [[period of each quarter hour, 96 per day kind]], PRICES_JSON: {period: price}
Prints "pandas" or "csv" (what priced) on stdout. Costs are floats rounded to 6 decimals: a yardstick, not a bill.
"""
import json
import sys

readings_csv, days_csv, bands_json, prices_json, out_csv, time_zone = sys.argv[1:]
bands = json.load(open(bands_json))
prices = json.load(open(prices_json))

try:
    import numpy as np
    import pandas as pd
except ImportError:
    pd = None

if pd is not None:
    names = sorted(prices)
    code = {name: index for index, name in enumerate(names)}
    table = np.array([[code[period] for period in kind] for kind in bands], dtype=np.int64).ravel()
    price = np.array([float(prices[name]) for name in names])
    days = pd.read_csv(days_csv, parse_dates=["date"])
    day_of = pd.Series(days["day"].values, index=days["date"].values)
    df = pd.read_csv(readings_csv, dtype={"meterId": str, "start": str, "seconds": "int64", "kwh": "float64"})
    local = pd.to_datetime(df["start"], utc=True).dt.tz_convert(time_zone).dt.tz_localize(None)
    kind = day_of.reindex(local.dt.normalize().values).values
    periods = table[kind * 96 + local.dt.hour.values * 4 + local.dt.minute.values // 15]
    df["period"] = np.array(names, dtype=object)[periods]
    df["unitPrice"] = price[periods]
    df["cost"] = (df["kwh"].values * df["unitPrice"].values).round(6)
    df.to_csv(out_csv, index=False, float_format="%.6f")
    print("pandas")
else:
    import csv
    from datetime import datetime
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(time_zone)
    with open(days_csv) as handle:
        day_of = {row["date"]: int(row["day"]) for row in csv.DictReader(handle)}
    with open(readings_csv) as source, open(out_csv, "w", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(["meterId", "start", "seconds", "kwh", "period", "unitPrice", "cost"])
        for row in csv.DictReader(source):
            local = datetime.fromisoformat(row["start"].replace("Z", "+00:00")).astimezone(zone)
            period = bands[day_of[local.date().isoformat()]][local.hour * 4 + local.minute // 15]
            unit = float(prices[period])
            writer.writerow([row["meterId"], row["start"], row["seconds"], row["kwh"], period, unit, f"{float(row['kwh']) * unit:.6f}"])
    print("csv")
