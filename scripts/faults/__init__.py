"""The fault and load drills: harness, traffic and the drills themselves.

``scripts/drills.py`` runs their full forms (``make drills``); ``tests/drills/test_drills.py``
runs their bounded forms in CI.
"""
