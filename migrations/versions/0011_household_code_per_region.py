"""household: 户编号 unique within its region instead of county-wide

A station admin's import must not learn that a code is registered in another jurisdiction
(issue 12); with codes unique per region, a code taken elsewhere is simply a new household.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 15:50:00

"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_household_code'), type_='unique')
        batch_op.create_unique_constraint(op.f('uq_household_region_id_code'), ['region_id', 'code'])
        batch_op.create_index('ix_household_code', ['code'], unique=False)


def downgrade():
    # Fails if two regions now hold the same code: resolve those by hand first.
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index('ix_household_code')
        batch_op.drop_constraint(op.f('uq_household_region_id_code'), type_='unique')
        batch_op.create_unique_constraint(op.f('uq_household_code'), ['code'])
