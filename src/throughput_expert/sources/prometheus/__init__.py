"""Prometheus: the HTTP API's responses and tpx's export of them (``api``), text-exposition
scrapes (``text``), and asking a running server (``live``, over ``http``). docs/formats.md §1.

Nothing is imported here: each module is loaded when used (``api`` needs numpy).
"""
