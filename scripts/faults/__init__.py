"""The fault and load drills: harness, traffic and the drills themselves.

``scripts/drills.py`` runs their full forms (``make drills``); ``tests/drills/test_faults.py``
and ``test_traffic.py`` run their bounded forms in CI.
"""
