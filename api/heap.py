"""``settle``: how a long-running process of ours keeps Python's cyclic garbage collector from
stalling it, called once the process has started (the API's lifespan, the supervising
process of ``ecom serve`` that runs the views, and its child that runs the process managers).

What it does, and why:
- **Freeze what exists at start** (``gc.freeze``): modules, schemas, routes and the container
  live as long as the process, so the collector's passes need not walk them.
- **Collect less often** (``gc.set_threshold``). Python's defaults (700, 10, 10) suit a short
  script, not a server holding caches. Under load, the objects of the requests in flight are
  caught young and promoted, then die in the oldest generation; that counts as growth of the
  old generation, so full passes came every one to two seconds, each walking every cached
  answer and state: 40-160 ms with nothing found, a stall for every request in flight. In the
  search benchmark (100,000 products, 32 clients) that was 0.4-0.8 s of a 15-s phase stalled,
  and the p99 of searching while stock moves was 75-230 ms; with these thresholds no full pass
  ran and it was 35-39 ms. The young generation is collected after 10,000 new containers
  instead of 700 (a request's garbage is freed by reference counting long before), the middle
  one after 50 young passes, the old one after 100 middle passes and, as always, only once it
  has grown by a quarter since the last full pass.

Cyclic garbage (a reference cycle, an exception kept with its traceback) is still collected,
only later; the processes' resident memory under the same loads was the same either way."""

from __future__ import annotations

import gc

#: New containers (less freed ones) between two passes over the young generation.
YOUNG = 10_000
#: Young passes between two passes over the middle generation.
MIDDLE = 50
#: Middle passes between two full passes (which also wait for a quarter more old objects).
OLD = 100


def settle() -> None:
    """Collect once, freeze what survives, and set the thresholds above."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
