"""Run a Python function as a dehb command objective (standard library only).

Three lines turn a training script into an objective::

    from dehb_objective import run

    def train(config, fidelity, ctx):
        ...                      # ctx.report(epoch, val_loss) for intermediate values
        return val_loss          # or {"fitness": val_loss, "cost": seconds, "info": {...}}

    run(train)

dehb starts the script once per evaluation with the trial in the DEHB_TRIAL environment variable
(and on stdin), and puts this directory on PYTHONPATH. ``run`` calls the function, writes the
result to $DEHB_RESULT_FILE and prints a ``DEHB_RESULT {...}`` line. An exception prints its
traceback on stderr and exits with code 1 (a failed trial); ``raise ObjectiveError(msg,
retryable=True)`` exits with code 75, which asks dehb to retry the trial. GPU pinning is done by
dehb through CUDA_VISIBLE_DEVICES before the script starts; ``ctx.devices`` lists the tokens.
"""

import inspect
import json
import math
import os
import sys
import traceback

__all__ = ["run", "Context", "ObjectiveError", "load_trial", "RETRYABLE_EXIT_CODE"]

RETRYABLE_EXIT_CODE = 75


class ObjectiveError(Exception):
    """Raise to fail a trial; ``retryable=True`` asks dehb to run it again."""

    def __init__(self, message, retryable=False):
        super().__init__(message)
        self.retryable = bool(retryable)


class Context:
    """What an objective gets besides config and fidelity."""

    def __init__(self, trial):
        self.trial = trial
        self.trial_id = trial.get("trialId")
        self.run_id = trial.get("runId")
        self.fidelity = trial.get("fidelity")
        self.devices = list(trial.get("devices") or [])
        self.trial_dir = trial.get("trialDir") or os.environ.get("DEHB_TRIAL_DIR")
        self.result_file = trial.get("resultFile") or os.environ.get("DEHB_RESULT_FILE")
        self.extra = trial.get("extra") or {}

    def report(self, step, value):
        """Report an intermediate value (e.g. validation loss after an epoch)."""
        line = json.dumps({"step": float(step), "value": float(value)})
        print("DEHB_REPORT " + line, flush=True)


def load_trial():
    """The trial dict: from $DEHB_TRIAL, else from stdin."""
    raw = os.environ.get("DEHB_TRIAL")
    if not raw:
        if sys.stdin is None or sys.stdin.isatty():
            raise SystemExit("dehb_objective: no trial given (run this script through dehb, or set DEHB_TRIAL)")
        raw = sys.stdin.read()
    trial = json.loads(raw)
    if not isinstance(trial, dict) or "config" not in trial or "fidelity" not in trial:
        raise SystemExit("dehb_objective: the trial JSON needs 'config' and 'fidelity'")
    return trial


def _as_float(value, what):
    try:
        return float(value)  # also numpy scalars and 0-d torch tensors
    except (TypeError, ValueError):
        raise TypeError("%s must be a number (got %r)" % (what, value))


def _normalize(result):
    if isinstance(result, bool):
        raise TypeError("objective returned a bool; return a number or {'fitness': ...}")
    if isinstance(result, dict):
        if "fitness" not in result:
            raise TypeError("objective result has no 'fitness' key (got keys %s)" % sorted(result))
        out = {"fitness": _as_float(result["fitness"], "fitness")}
        if result.get("cost") is not None:
            out["cost"] = _as_float(result["cost"], "cost")
        if result.get("info") is not None:
            out["info"] = json.loads(json.dumps(result["info"], default=str))
        return out
    return {"fitness": _as_float(result, "the objective's return value")}


def _call(fn, config, fidelity, ctx):
    try:
        params = [
            p for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        has_var = any(p.kind == p.VAR_POSITIONAL for p in inspect.signature(fn).parameters.values())
        if not has_var and len(params) == 2:
            return fn(config, fidelity)
    except (TypeError, ValueError):
        pass
    return fn(config, fidelity, ctx)


def _write_result(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def run(fn):
    """Evaluate ``fn(config, fidelity, ctx)`` for the trial dehb gave this process, then exit."""
    trial = load_trial()
    ctx = Context(trial)
    try:
        payload = _normalize(_call(fn, trial["config"], trial["fidelity"], ctx))
    except ObjectiveError as err:
        traceback.print_exc()
        sys.stderr.flush()
        sys.exit(RETRYABLE_EXIT_CODE if err.retryable else 1)
    except Exception:
        traceback.print_exc()
        sys.stderr.flush()
        sys.exit(1)
    if not math.isfinite(payload["fitness"]):
        print("dehb_objective: objective returned fitness %r" % payload["fitness"], file=sys.stderr)
    text = json.dumps(payload)
    if ctx.result_file:
        _write_result(ctx.result_file, text)
    print("DEHB_RESULT " + text, flush=True)
    return payload
