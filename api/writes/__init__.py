"""The platform's own chain writes: queued with the business change, sent by the writer of their key."""
