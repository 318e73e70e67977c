"""The case kernel: a case's transitions, clocks, timeline and the figures kept as it changes.

The measures of settled cases are kept by listeners on every session (measure_days): loaded
with the package, so that no code that changes a case can run without them."""

from app.cases import measure_days as measure_days
