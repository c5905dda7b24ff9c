"""The write side, one module per process of the domain, each over the shared unit of work.

registration (proposals, members, corrections, member moves), padan, verval, programs (programs,
tahap, certification), allocation (the city's rule, outside rosters), disbursement (payments),
withdrawal (removals, reinstatements, transfers) and complaints.
"""
