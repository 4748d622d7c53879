"""applications, pulls, webhook receipts, gateway pulls

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 14:41:02.051809
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('applications',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('applicant', sa.String(length=42), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('matters', sa.JSON(), nullable=False),
    sa.Column('agency', sa.String(length=42), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('claimed_identity', sa.LargeBinary(), nullable=True),
    sa.Column('face_session_id', sa.String(length=100), nullable=True),
    sa.Column('face_session_token', sa.LargeBinary(), nullable=True),
    sa.Column('face_decision', sa.String(length=32), nullable=True),
    sa.Column('face_score', sa.Double(), nullable=True),
    sa.Column('face_error_code', sa.String(length=64), nullable=True),
    sa.Column('face_request_id', sa.String(length=100), nullable=True),
    sa.Column('face_response_sha256', sa.String(length=64), nullable=True),
    sa.Column('face_check_salt', sa.LargeBinary(), nullable=True),
    sa.Column('face_check_ref', sa.String(length=66), nullable=True),
    sa.Column('face_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('purpose_salt', sa.String(length=66), nullable=False),
    sa.Column('consent_terms', sa.JSON(), nullable=True),
    sa.Column('consent_id', sa.String(length=66), nullable=True),
    sa.Column('consent_tx', sa.String(length=66), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('consent_id', name=op.f('uq_applications_consent_id')),
    sa.UniqueConstraint('face_session_id', name=op.f('uq_applications_face_session_id'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_agency'), ['agency'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_applicant'), ['applicant'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_state'), ['state'], unique=False)

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

    op.create_table('webhook_receipts',
    sa.Column('webhook_id', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('webhook_id', name=op.f('pk_webhook_receipts'))
    )
    op.create_table('pulled_records',
    sa.Column('request_id', sa.String(length=66), nullable=False),
    sa.Column('application_id', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('holder', sa.String(length=42), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=True),
    sa.Column('digest', sa.String(length=66), nullable=True),
    sa.Column('tx_hash', sa.String(length=66), nullable=True),
    sa.Column('pull_number', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_pulled_records_application_id_applications')),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_pulled_records'))
    )
    with op.batch_alter_table('pulled_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pulled_records_application_id'), ['application_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('pulled_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulled_records_application_id'))

    op.drop_table('pulled_records')
    op.drop_table('webhook_receipts')
    with op.batch_alter_table('gateway_pulls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gateway_pulls_holder'))
        batch_op.drop_index(batch_op.f('ix_gateway_pulls_consent_id'))

    op.drop_table('gateway_pulls')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applications_state'))
        batch_op.drop_index(batch_op.f('ix_applications_applicant'))
        batch_op.drop_index(batch_op.f('ix_applications_agency'))

    op.drop_table('applications')

