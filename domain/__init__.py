"""The pure domain: events, decision state and decisions for every aggregate.

Nothing here touches a clock, a random source, a database or a network: time and new ids
arrive on the commands, so every decision can be tested with plain values and replays the same.
"""
