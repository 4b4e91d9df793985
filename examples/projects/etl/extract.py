import json
import random

from params import step_params

pipeline, _ = step_params()
random.seed(pipeline["source"])
rows = [{"id": i, "amount": random.choice([None, random.randint(1, 100)])} for i in range(pipeline["rows"])]
with open("extracted.json", "w") as f:
    json.dump(rows, f)
print(f"extracted {len(rows)} rows from {pipeline['source']}")
