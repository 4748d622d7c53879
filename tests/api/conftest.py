"""The API tests take the suite's ``api`` and ``http`` fixtures (tests/conftest.py): a real
uvicorn serving on a free loopback port, on the suite's node and a fresh database."""
