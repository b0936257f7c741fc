"""A stand-in for a PyTorch training script used as a DEHB command objective.

dehb runs it once per evaluation: `python3 train.py` with the trial in DEHB_TRIAL. The helper
`dehb_objective.run` reads it, calls `train`, and reports the result (and per-epoch values).
"""
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
from dehb_objective import run  # noqa: E402


def train(config, fidelity, ctx):
    epochs = max(1, round(fidelity))
    floor = 0.05 + (math.log10(config["lr"]) + 2.5) ** 2 * 0.2 + (0 if config["act"] == "gelu" else 0.08)
    loss = 2.5
    for epoch in range(1, epochs + 1):
        loss = floor + (loss - floor) * 0.7
        ctx.report(epoch, loss)
    return {"fitness": loss, "cost": epochs, "info": {"device": os.environ.get("CUDA_VISIBLE_DEVICES", "cpu")}}


run(train)
