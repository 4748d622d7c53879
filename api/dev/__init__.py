"""Development only, never imported by the production app (an import-linter contract holds it):
the face-verification vendor stand-in (``python -m api.dev.face_vendor``), the demo walks
(``govchain demo``), their sample files, the seeding helpers the benchmarks and tests use, and
the local stack's child services (``govchain up``)."""
