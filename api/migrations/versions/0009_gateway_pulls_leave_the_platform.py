"""the gateway's table leaves the platform's schema: drop gateway_pulls

The data holder's gateway is its own program with its own migrations
(``gateway/migrations``); the platform never wrote this table (each gateway keeps its own
database), so it is dropped here. Going back down recreates it empty.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('gateway_pulls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gateway_pulls_holder'))
        batch_op.drop_index(batch_op.f('ix_gateway_pulls_consent_id'))

    op.drop_table('gateway_pulls')


def downgrade() -> None:
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
