"""the outbox takes queued intents: a chain writer per key signs them

A handler records an intent (target, calldata, gas limit) in the same transaction as its
business change; the key's writer (one leader across processes) gives it a nonce, signs it and
sends it. A queued row has no nonce, hash or signed bytes yet, so those become nullable.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 17:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chain_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('to_address', sa.String(length=42), nullable=True))
        batch_op.add_column(sa.Column('calldata', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('gas_limit', sa.BigInteger(), nullable=True))
        batch_op.alter_column('nonce', existing_type=sa.BigInteger(), nullable=True)
        batch_op.alter_column('tx_hash', existing_type=sa.String(length=66), nullable=True)
        batch_op.alter_column('raw_tx', existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM chain_outbox WHERE status = 'queued'")  # never signed: nothing on chain
    with op.batch_alter_table('chain_outbox', schema=None) as batch_op:
        batch_op.alter_column('raw_tx', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column('tx_hash', existing_type=sa.String(length=66), nullable=False)
        batch_op.alter_column('nonce', existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column('gas_limit')
        batch_op.drop_column('calldata')
        batch_op.drop_column('to_address')
