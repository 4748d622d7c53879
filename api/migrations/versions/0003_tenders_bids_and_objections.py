"""tenders, bids and objections

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 15:20:53.074241
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('tenders',
    sa.Column('tender_id', sa.String(length=66), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('agency', sa.String(length=42), nullable=False),
    sa.Column('created_tx', sa.String(length=66), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tender_id', name=op.f('pk_tenders')),
    sa.UniqueConstraint('reference', name=op.f('uq_tenders_reference'))
    )
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenders_agency'), ['agency'], unique=False)

    op.create_table('tender_bids',
    sa.Column('tender_id', sa.String(length=66), nullable=False),
    sa.Column('pseudonym', sa.String(length=66), nullable=False),
    sa.Column('bidder_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('blob', sa.String(length=64), nullable=True),
    sa.Column('key_commitment', sa.String(length=66), nullable=True),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.Column('opened', sa.JSON(), nullable=True),
    sa.Column('decryption', sa.String(length=40), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.tender_id'], name=op.f('fk_tender_bids_tender_id_tenders')),
    sa.PrimaryKeyConstraint('tender_id', 'pseudonym', name=op.f('pk_tender_bids'))
    )
    op.create_table('tender_objections',
    sa.Column('tender_id', sa.String(length=66), nullable=False),
    sa.Column('index', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('pseudonym', sa.String(length=66), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.tender_id'], name=op.f('fk_tender_objections_tender_id_tenders')),
    sa.PrimaryKeyConstraint('tender_id', 'index', name=op.f('pk_tender_objections'))
    )



def downgrade() -> None:

    op.drop_table('tender_objections')
    op.drop_table('tender_bids')
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenders_agency'))

    op.drop_table('tenders')

