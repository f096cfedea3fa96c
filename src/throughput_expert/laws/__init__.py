"""The laws: pure functions over numbers in SI units (seconds, per-second rates, fractions 0..1).

One module per law; each function states its formula and source in its docstring, and does no
I/O, formatting or logging. Impossible arguments raise ``InputError`` or ``ModelError``; a queue
at utilization >= 1 raises ``UnstableSystem`` (see ``throughput_expert.errors``).

- ``little``       Little's law, L = λ·W, solved for each of its three terms.
- ``utilization``  operational laws (utilization, service demand, bottleneck bound) and the
                   M/M/1 response time R = S / (1 − U).
- ``bounds``       asymptotic bounds of a closed system: throughput, response time, N*.
- ``queueing``     M/M/1 and M/M/c: Erlang B and C, means, wait and response-time percentiles,
                   and the smallest pool that meets a condition.
- ``usl``          the Universal Scalability Law: X(N) = λN / (1 + σ(N−1) + κN(N−1)), its
                   least-squares fit, peak and recommended concurrency.
- ``amdahl``       Amdahl's law: the speed-up when a fraction of the work gets faster.
- ``batching``     the batch cost model T(b) = c0 + c1·b: throughput, batch size for a target,
                   added latency, and the line fitted to measurements.

Import the module you need (``from throughput_expert.laws import queueing``); this package
imports nothing itself so that loading one law stays cheap.
"""
