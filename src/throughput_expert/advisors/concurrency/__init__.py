"""``optimize-concurrency``: pool sizes a user can deploy, each step a law with its inputs.

- ``inputs``: what the command is given (``ConcurrencyInputs``, ``LatencySlo``) and the ``Plan``
  the advisor hands the recommendation writer;
- ``queue``: the pool as an M/M/c queue: its latency, the smallest pool for a latency SLO
  (Erlang C), the bound on a waiting queue (Little's law);
- ``model``: the pool and the CPU as stations of ``laws/network`` (or the sweep's USL): every
  pool size is priced on it, today's and the recommended one;
- ``recs``: the recommendations, one per change, each citing its evidence;
- ``advisor``: the seed's formulas, Little's law, the CPU ceiling, the USL on a sweep, the report.
"""

from throughput_expert.advisors.concurrency.advisor import advise
from throughput_expert.advisors.concurrency.inputs import (
    ConcurrencyInputs,
    LatencySlo,
    Plan,
    WorkloadType,
)
from throughput_expert.model.analysis.concurrency import Pool

__all__ = ["ConcurrencyInputs", "LatencySlo", "Plan", "Pool", "WorkloadType", "advise"]
