"""the gateway's pull log: gateway_pulls, one row per pull request id

A gateway database made before the gateway had its own migrations (upgraded with the
platform's, up to 0008) already holds this table, with the same columns: it is kept as it is,
rows included, and only this history's version table is started.

Revision ID: 0001
Revises:
Create Date: 2026-12-03 14:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table('gateway_pulls'):
        return
    op.create_table('gateway_pulls',
    sa.Column('request_id', sa.String(length=66), nullable=False),
    sa.Column('holder', sa.String(length=42), nullable=False),
    sa.Column('consent_id', sa.String(length=66), nullable=False),
    sa.Column('category', sa.Integer(), nullable=False),
    sa.Column('requester', sa.String(length=42), nullable=False),
    sa.Column('fingerprint', sa.String(length=66), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('digest', sa.String(length=66), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('tx_hash', sa.String(length=66), nullable=True),
    sa.Column('block_number', sa.Integer(), nullable=True),
    sa.Column('pull_number', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_gateway_pulls'))
    )
    with op.batch_alter_table('gateway_pulls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gateway_pulls_consent_id'), ['consent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_gateway_pulls_holder'), ['holder'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('gateway_pulls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gateway_pulls_holder'))
        batch_op.drop_index(batch_op.f('ix_gateway_pulls_consent_id'))

    op.drop_table('gateway_pulls')
