"""salur-cases: event-sourced social-aid case management for Kota Bogor.

Households (one Kartu Keluarga each) are proposed, matched against the civil registry (padan),
verified (verval), allocated to programs per tahap and paid; every decision is an event, so the
system can say why a household stopped receiving aid and what was known at any moment.
"""

__version__ = "0.1.0"
