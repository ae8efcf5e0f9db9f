"""Kafka scale-out, optional on one machine: the relay that publishes the store's events to
topics keyed by aggregate id (``relay``, ``topics``), projectors running as consumer groups
(``consumer``, ``decode``), their dead letters (``dead_letters``) and lag for operations
(``status``); the subcommands that run them are in ``composition/kafka_cli.py``. Nothing below
this package imports it: the store, commands and views work without Kafka."""
