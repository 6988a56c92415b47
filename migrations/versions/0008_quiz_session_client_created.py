"""quiz_session (client_id, created_at) index: a device's latest attempts without a sort

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 11:30:00

"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_quiz_session_client_created', 'quiz_session', ['client_id', 'created_at'])


def downgrade():
    op.drop_index('ix_quiz_session_client_created', table_name='quiz_session')
