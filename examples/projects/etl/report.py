import json
import os

from params import step_params

pipeline, step = step_params()
rows = json.load(open("clean.json"))
total = sum(r["amount"] for r in rows)
os.makedirs("reports", exist_ok=True)
with open("reports/summary.txt", "w") as f:
    f.write(f"{pipeline['source']}: {len(rows)} rows, total {total}\n")
print(f"report ({step['format']}): {pipeline['source']} rows={len(rows)} total={total}")
