"""A stand-in for a PyTorch training script used as a DEHB command objective.

dehb runs it once per evaluation: `python3 train.py` with the trial in DEHB_TRIAL. The helper
`dehb_objective.run` reads it, calls `train`, and reports the result (and per-epoch values).
dehb puts its python/ folder on PYTHONPATH for command objectives, so the import just works.
"""
import math
import os

from dehb_objective import run


def train(config, fidelity, ctx):
    epochs = max(1, round(fidelity))
    floor = 0.05 + (math.log10(config["lr"]) + 2.5) ** 2 * 0.2 + (0 if config["act"] == "gelu" else 0.08)
    loss = 2.5
    for epoch in range(1, epochs + 1):
        loss = floor + (loss - floor) * 0.7
        ctx.report(epoch, loss)
    return {"fitness": loss, "cost": epochs, "info": {"device": os.environ.get("CUDA_VISIBLE_DEVICES", "cpu")}}


run(train)
