"""import_job: household sheets checked and imported in the background, state in the database

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 12:30:00

"""
from alembic import op
import sqlalchemy as sa

from quizbot.models.types import UTCDateTime


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_job',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('step', sa.String(length=8), nullable=False),
        sa.Column('stage', sa.String(length=16), nullable=False),
        sa.Column('rows_done', sa.Integer(), nullable=False),
        sa.Column('rows_total', sa.Integer(), nullable=False),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('message', sa.String(length=500), nullable=True),
        sa.Column('heartbeat_at', UTCDateTime(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('finished_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_import_job_region_id_region')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_import_job_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_job')),
    )
    op.create_index(op.f('ix_import_job_created_at'), 'import_job', ['created_at'])
    op.create_index(op.f('ix_import_job_user_id'), 'import_job', ['user_id'])


def downgrade():
    op.drop_index(op.f('ix_import_job_user_id'), table_name='import_job')
    op.drop_index(op.f('ix_import_job_created_at'), table_name='import_job')
    op.drop_table('import_job')
