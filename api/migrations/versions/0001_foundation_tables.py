"""foundation tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 14:16:57.893249
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('auth_challenges',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=42), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_auth_challenges'))
    )
    with op.batch_alter_table('auth_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_challenges_address'), ['address'], unique=False)

    op.create_table('chain_event_cursors',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_chain_event_cursors'))
    )
    op.create_table('chain_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('intent_key', sa.String(length=200), nullable=False),
    sa.Column('sender', sa.String(length=42), nullable=False),
    sa.Column('nonce', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('raw_tx', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_outbox')),
    sa.UniqueConstraint('intent_key', name=op.f('uq_chain_outbox_intent_key')),
    sa.UniqueConstraint('tx_hash', name=op.f('uq_chain_outbox_tx_hash'))
    )
    with op.batch_alter_table('chain_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_outbox_sender'), ['sender'], unique=False)
        batch_op.create_index(batch_op.f('ix_chain_outbox_status'), ['status'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('chain_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chain_outbox_status'))
        batch_op.drop_index(batch_op.f('ix_chain_outbox_sender'))

    op.drop_table('chain_outbox')
    op.drop_table('chain_event_cursors')
    with op.batch_alter_table('auth_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_challenges_address'))

    op.drop_table('auth_challenges')

