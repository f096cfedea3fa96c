"""``design-batching``: the smallest batch that meets a target rate within a latency budget.

- ``inputs``: what the command is given (``BatchingInputs``);
- ``cost_model``: where the cost model T(b) = c0 + c1·b comes from, in order of trust: a trial
  against the real database (one fit per method), measurements, explicit flags, or the
  single-item latency split by the operation's default share;
- ``on_model``: the writer (and a timed disk) on the system model, a batch size applied to it;
- ``advisor``: the smallest batch (and the batches in flight) for the target, the latency it
  adds, the report.
"""

from throughput_expert.advisors.batching.advisor import advise
from throughput_expert.advisors.batching.inputs import BatchingInputs

__all__ = ["BatchingInputs", "advise"]
