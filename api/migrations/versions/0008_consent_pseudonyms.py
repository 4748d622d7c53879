"""per-consent applicant pseudonyms: applications.consent_pseudonym and the wallet's link signature

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 11:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_pseudonym', sa.String(length=42), nullable=True))
        batch_op.add_column(sa.Column('consent_link_signature', sa.String(length=132), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_applications_consent_pseudonym'), ['consent_pseudonym'])


def downgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_applications_consent_pseudonym'), type_='unique')
        batch_op.drop_column('consent_link_signature')
        batch_op.drop_column('consent_pseudonym')
