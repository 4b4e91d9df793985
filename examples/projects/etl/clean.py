import json

from params import step_params

_, step = step_params()
rows = json.load(open("extracted.json"))
if step["drop_nulls"]:
    rows = [r for r in rows if r["amount"] is not None]
else:
    rows = [dict(r, amount=r["amount"] or 0) for r in rows]
json.dump(rows, open("clean.json", "w"))
print(f"cleaned: {len(rows)} rows (drop_nulls={step['drop_nulls']})")
