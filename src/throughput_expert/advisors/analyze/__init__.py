"""``analyze``: from measured metrics to a bottleneck verdict, headroom, latency growth and advice.

- ``advisor``: the steps in order and the report (``AnalyzeInputs``, ``advise``); per-resource
  demand and headroom come from ``advisors/resources.py``, shared with ``find-bottleneck``;
- ``latency``: response time as load grows (an open queueing network over the resources);
- ``verdict``: the bottleneck, from utilization, saturation signals and unexplained waiting;
- ``playbook``: from the diagnosed situation to recommendations priced by the bottleneck bound;
- ``summary``: the report's one-sentence summary.
"""

from throughput_expert.advisors.analyze.advisor import AnalyzeInputs, advise

__all__ = ["AnalyzeInputs", "advise"]
