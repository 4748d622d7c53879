"""Helpers shared by the test packages: a real API server in a thread, a whole local stack,
and the flows several packages walk. Test modules import from here, never from each other."""
