"""The composition root and the ``ecom`` console command: settings (``settings``), the one
place that builds and wires everything (``bootstrap.build``), the ASGI entry (``asgi``) and
the command line (``cli``, with the subcommands of ``audit_cli``, ``auth_cli``, ``kafka_cli``
and ``process_cli``)."""
