"""The case kernel: a case's transitions, clocks, timeline and the figures kept as it changes.

The measures of settled cases and the overdue sweep's timers are kept by listeners on every
session (measure_days, clock_timers): loaded with the package, so that no code that changes a
case can run without them."""

from app.cases import clock_timers as clock_timers
from app.cases import measure_days as measure_days
