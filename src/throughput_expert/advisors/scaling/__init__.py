"""``scaling-plan``: from today's architecture to a target rate, component by component.

- ``parts``: the per-component laws: fan-out, capacity per instance, instances needed (linear or
  by the USL), the strategy and the autoscaling policy;
- ``recs``: the recommendations and the summary;
- ``advisor``: each component's plan, the queues' partitions, the saturation order, the totals,
  the report.
"""

from throughput_expert.advisors.scaling.advisor import ComponentPlan, ScalingInputs, advise

__all__ = ["ComponentPlan", "ScalingInputs", "advise"]
