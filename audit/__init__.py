"""Tamper evidence for the event log: the hash chain (``chain``), the follower that links each
new event into it (``chainer``), verification of the stored chain (``verify``), signed
checkpoints (``checkpoint``), the Merkle tree's leaves, functions and signed heads (``leaf``,
``merkle``, ``tree_head``), exports an outsider can check (``export``) and the standalone verifier
they check them with (``ecom_verify``, importing nothing of the project); the ``ecom audit``
subcommands are in ``composition/audit_cli.py``. Personal data is encrypted per customer by
the event mapper (``eventstore/privacy.py``), so forgetting a customer never changes the chain."""
