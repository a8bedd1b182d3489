"""class passes (issue 17): pass products, purchases, the credit ledger; bookings paid with a
pass; payments and refunds of a pass purchase

Revision ID: c1a55e5a0017
Revises: 5e7e5a11e017
Create Date: 2026-11-29 22:25:42.743074
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'c1a55e5a0017'
down_revision: str | None = '5e7e5a11e017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pass_products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('facilitator_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('credits', sa.Integer(), nullable=False),
    sa.Column('valid_days', sa.Integer(), nullable=False),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("event_type IS NULL OR event_type IN ('session','workshop','retreat')", name='ck_pass_products_event_type'),
    sa.CheckConstraint('credits >= 1', name='ck_pass_products_credits_positive'),
    sa.CheckConstraint('price > 0', name='ck_pass_products_price_positive'),
    sa.CheckConstraint('valid_days >= 1', name='ck_pass_products_valid_days_positive'),
    sa.ForeignKeyConstraint(['facilitator_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_pass_products_facilitator', 'pass_products', ['facilitator_id', 'is_active'], unique=False)
    op.create_table('pass_purchases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('credits_total', sa.Integer(), nullable=False),
    sa.Column('credits_left', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('razorpay_order_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('payment_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending','active','expired','refunded','cancelled')", name='ck_pass_purchases_status'),
    sa.CheckConstraint('amount > 0', name='ck_pass_purchases_amount_positive'),
    sa.CheckConstraint('credits_left <= credits_total', name='ck_pass_purchases_credits_left_within_total'),
    sa.CheckConstraint('credits_left >= 0', name='ck_pass_purchases_credits_left_non_negative'),
    sa.ForeignKeyConstraint(['product_id'], ['pass_products.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('razorpay_order_id')
    )
    op.create_index(op.f('ix_pass_purchases_product_id'), 'pass_purchases', ['product_id'], unique=False)
    op.create_index('ix_pass_purchases_user_status', 'pass_purchases', ['user_id', 'status'], unique=False)
    op.create_table('pass_credits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pass_purchase_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('used','returned','forfeited')", name='ck_pass_credits_status'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ),
    sa.ForeignKeyConstraint(['pass_purchase_id'], ['pass_purchases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('booking_id')
    )
    op.create_index(op.f('ix_pass_credits_pass_purchase_id'), 'pass_credits', ['pass_purchase_id'], unique=False)
    # Batch mode so the same migration runs on SQLite (the embedded database), which cannot
    # ALTER a column or add a constraint in place.
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_with', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('pass_purchase_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_bookings_pass_purchase_id'), ['pass_purchase_id'], unique=False)
        batch_op.create_foreign_key('fk_bookings_pass_purchase_id', 'pass_purchases', ['pass_purchase_id'], ['id'])
        batch_op.create_check_constraint('ck_bookings_paid_with', "paid_with IN ('payment','pass','free')")
    for table in ('payments', 'refunds'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('pass_purchase_id', sa.Integer(), nullable=True))
            batch_op.alter_column('booking_id', existing_type=sa.INTEGER(), nullable=True)
            batch_op.create_index(batch_op.f(f'ix_{table}_pass_purchase_id'), ['pass_purchase_id'], unique=False)
            batch_op.create_foreign_key(f'fk_{table}_pass_purchase_id', 'pass_purchases', ['pass_purchase_id'], ['id'])
            batch_op.create_check_constraint(f'ck_{table}_booking_or_pass',
                                             '(booking_id IS NULL) <> (pass_purchase_id IS NULL)')


def downgrade() -> None:
    for table in ('refunds', 'payments'):
        op.execute(f'DELETE FROM {table} WHERE pass_purchase_id IS NOT NULL')
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'ck_{table}_booking_or_pass', type_='check')
            batch_op.drop_constraint(f'fk_{table}_pass_purchase_id', type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_pass_purchase_id'))
            batch_op.alter_column('booking_id', existing_type=sa.INTEGER(), nullable=False)
            batch_op.drop_column('pass_purchase_id')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_constraint('ck_bookings_paid_with', type_='check')
        batch_op.drop_constraint('fk_bookings_pass_purchase_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_bookings_pass_purchase_id'))
        batch_op.drop_column('pass_purchase_id')
        batch_op.drop_column('paid_with')
    op.drop_index(op.f('ix_pass_credits_pass_purchase_id'), table_name='pass_credits')
    op.drop_table('pass_credits')
    op.drop_index('ix_pass_purchases_user_status', table_name='pass_purchases')
    op.drop_index(op.f('ix_pass_purchases_product_id'), table_name='pass_purchases')
    op.drop_table('pass_purchases')
    op.drop_index('ix_pass_products_facilitator', table_name='pass_products')
    op.drop_table('pass_products')
