"""Wire layer, dialect side: pure converters between each API dialect and :mod:`omni.ir`.

One module per dialect. Nothing in this package does I/O (enforced by a test): it turns
bytes and dicts into IR values and back, so it is testable without a network.
"""
