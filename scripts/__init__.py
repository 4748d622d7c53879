"""Dev tooling run as scripts (`make bench`, `make drills`, `make slither`); never imported by the services."""
