"""Sources: reading each input family into model records, one module or subpackage per family.

- ``metrics`` detects each metrics file's format from its content (a table of ``(name, detect,
  read)``, tried in order) and merges them into one ``ServiceMetrics``; the formats are
  ``metrics_json`` (tpx metrics JSON) and ``prometheus/`` (``api``: API responses and tpx
  exports; ``text``: exposition scrapes; ``live``: asking a running server, over ``http``),
  which share ``series`` and ``signals``. ``local_sampler`` samples this machine instead.
- ``profiles/`` and ``loadtests/`` detect and read CPU profiles and load-test results, each with
  its own table of formats.
- ``sweep``, ``architecture``, ``batch_measurements``, ``settings`` and ``rules`` read one format
  each. ``files`` and ``yaml_safe`` read a file with a size cap and one-line errors, ``http_get``
  is the HTTP client, ``data/`` the packaged data only sources read (the Prometheus queries).

Writing what tpx produces is not ingestion: that is ``throughput_expert.outputs``.
"""

from __future__ import annotations

from throughput_expert.sources.metrics import load_metrics

__all__ = ["load_metrics"]
