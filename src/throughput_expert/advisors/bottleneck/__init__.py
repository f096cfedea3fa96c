"""``find-bottleneck``: from CPU profiles (and optionally host metrics) to a verdict with evidence.

- ``profile_stats``: where a profile's time goes (categories, functions, hot paths, threads);
- ``gil``: GIL waiting from a py-spy ``--gil`` recording against an ``--idle`` one;
- ``advisor``: the verdict, the host's view, the fixes priced by Amdahl's law, the report.
"""

from throughput_expert.advisors.bottleneck.advisor import FindBottleneckInputs, advise

__all__ = ["FindBottleneckInputs", "advise"]
