"""waitlist and refund policies: waitlist entries; refund tiers on events, the snapshot on
bookings, a facilitator's saved default

Revision ID: b7d41c0e9a16
Revises: 5e3474e2a54c
Create Date: 2026-11-29 19:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'b7d41c0e9a16'
down_revision: str | None = '5e3474e2a54c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL everywhere means "no policy": a full refund until the start, as before.
    op.add_column('events', sa.Column('refund_policy', sa.JSON(none_as_null=True), nullable=True))
    op.add_column('bookings', sa.Column('refund_policy', sa.JSON(none_as_null=True), nullable=True))
    op.add_column('users', sa.Column('default_refund_policy', sa.JSON(none_as_null=True),
                                     nullable=True))
    op.create_table('waitlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('offer_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('waiting','offered','accepted','expired','left')",
                       name='ck_waitlist_entries_status'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_waitlist_entries_user_id', 'waitlist_entries', ['user_id'], unique=False)
    op.create_index('ix_waitlist_event_status_id', 'waitlist_entries',
                    ['event_id', 'status', 'id'], unique=False)
    op.create_index('ix_waitlist_offer_expiry', 'waitlist_entries', ['offer_expires_at'],
                    unique=False, sqlite_where=sa.text("status = 'offered'"),
                    postgresql_where=sa.text("status = 'offered'"))
    op.create_index('uq_waitlist_one_live_per_user_event', 'waitlist_entries',
                    ['user_id', 'event_id'], unique=True,
                    sqlite_where=sa.text("status IN ('waiting','offered')"),
                    postgresql_where=sa.text("status IN ('waiting','offered')"))


def downgrade() -> None:
    op.drop_index('uq_waitlist_one_live_per_user_event', table_name='waitlist_entries',
                  sqlite_where=sa.text("status IN ('waiting','offered')"),
                  postgresql_where=sa.text("status IN ('waiting','offered')"))
    op.drop_index('ix_waitlist_offer_expiry', table_name='waitlist_entries',
                  sqlite_where=sa.text("status = 'offered'"),
                  postgresql_where=sa.text("status = 'offered'"))
    op.drop_index('ix_waitlist_event_status_id', table_name='waitlist_entries')
    op.drop_index('ix_waitlist_entries_user_id', table_name='waitlist_entries')
    op.drop_table('waitlist_entries')
    op.drop_column('users', 'default_refund_policy')
    op.drop_column('bookings', 'refund_policy')
    op.drop_column('events', 'refund_policy')
