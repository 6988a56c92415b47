"""quiz_session device_key and network_key: the server's own signals for the 刷数 check

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 12:20:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz_session') as batch:
        batch.add_column(sa.Column('device_key', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('network_key', sa.String(length=64), nullable=True))
    # No backfill: the rule looks at the last hour only, and also counts by client_id, where
    # older attempts already carry their device (the API stored its IP + user agent hash there).
    counted = sa.text("household_id IS NOT NULL")  # the rule only counts household attempts
    op.create_index('ix_quiz_session_device_submitted', 'quiz_session', ['device_key', 'submitted_at'],
                    postgresql_where=counted, sqlite_where=counted)
    op.create_index('ix_quiz_session_network_submitted', 'quiz_session', ['network_key', 'submitted_at'],
                    postgresql_where=counted, sqlite_where=counted)
    # (client_id, created_at) from 0008 serves every lookup by client_id: one index less to keep
    # up on each quiz written.
    op.drop_index('ix_quiz_session_client_id', table_name='quiz_session')


def downgrade():
    op.create_index('ix_quiz_session_client_id', 'quiz_session', ['client_id'])
    op.drop_index('ix_quiz_session_network_submitted', table_name='quiz_session')
    op.drop_index('ix_quiz_session_device_submitted', table_name='quiz_session')
    with op.batch_alter_table('quiz_session') as batch:
        batch.drop_column('network_key')
        batch.drop_column('device_key')
