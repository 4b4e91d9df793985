"""Reads this step's parameters the way Orchest's SDK does: from the pipeline file."""
import json
import os


def step_params():
    with open(os.environ["ORCHEST_PIPELINE_PATH"]) as f:
        pipeline = json.load(f)
    return pipeline["parameters"], pipeline["steps"][os.environ["ORCHEST_STEP_UUID"]]["parameters"]
