-- The statements one POST /bookings issues (captured with a before_cursor_execute listener on
-- the app's engine; see bench/README.md), free hot event, distinct attendee per transaction.
-- :eid (hot event) and :fac (its facilitator) come from `pgbench -D`. The attendee id comes
-- from a sequence over the seeded attendees: the only statement the app does not issue.
SELECT nextval('bench_pgbench_uid') AS uid \gset
-- 1. the Bearer token's user (its own read transaction)
BEGIN;
SELECT users.id, users.email, users.password_hash, users.name, users.phone, users.role, users.is_active, users.is_verified, users.google_id, users.profile_picture, users.created_at, users.updated_at FROM users WHERE users.id = :uid;
COMMIT;
-- 2. the booking transaction
BEGIN;
SELECT users.id, users.email, users.password_hash, users.name, users.phone, users.role, users.is_active, users.is_verified, users.google_id, users.profile_picture, users.created_at, users.updated_at FROM users WHERE users.id = :uid;
SELECT events.id, events.facilitator_id, events.title, events.description, events.event_type, events.start_at, events.end_at, events.timezone, events.location, events.virtual_link, events.max_participants, events.seats_taken, events.price, events.currency, events.is_active, events.cancelled_at, events.deleted_at, events.created_at, events.updated_at FROM events WHERE events.id = :eid;
SELECT bookings.id FROM bookings WHERE bookings.user_id = :uid AND bookings.event_id = :eid AND bookings.status = 'confirmed';
SELECT bookings.id, bookings.booking_reference, bookings.user_id, bookings.event_id, bookings.status, bookings.payment_status, bookings.notes, bookings.amount, bookings.currency, bookings.hold_expires_at, bookings.razorpay_order_id, bookings.payment_id, bookings.payment_reference, bookings.payment_error_code, bookings.payment_error_description, bookings.paid_at, bookings.cancellation_reason, bookings.cancelled_at, bookings.created_at, bookings.updated_at FROM bookings WHERE bookings.status = 'confirmed' AND bookings.payment_status IN ('pending', 'failed') AND bookings.hold_expires_at IS NOT NULL AND bookings.hold_expires_at <= now() AND bookings.event_id = :eid FOR UPDATE;
UPDATE events SET seats_taken=(events.seats_taken + 1) WHERE events.id = :eid AND events.seats_taken < events.max_participants;
INSERT INTO bookings (booking_reference, user_id, event_id, status, payment_status, notes, amount, currency, hold_expires_at, razorpay_order_id, payment_id, payment_reference, payment_error_code, payment_error_description, paid_at, cancellation_reason, cancelled_at, created_at, updated_at) VALUES (NULL, :uid, :eid, 'confirmed', 'completed', NULL, 0.00, 'INR', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, now(), now()) RETURNING bookings.id \gset booking_
UPDATE bookings SET booking_reference='PGB' || :booking_id WHERE bookings.id = :booking_id;
SELECT users.id, users.email, users.password_hash, users.name, users.phone, users.role, users.is_active, users.is_verified, users.google_id, users.profile_picture, users.created_at, users.updated_at FROM users WHERE users.id = :fac;
INSERT INTO outbox (idempotency_key, action, booking_id, payload, status, attempts, next_attempt_at, last_error, crm_notification_id, created_at, sent_at) VALUES ('pgbench-' || :booking_id, 'booking_created', :booking_id, '{"booking_id": 0, "booking_reference": "BK2026001", "action": "booking_created", "idempotency_key": "pgbench", "user": {"id": 2, "name": "Bench User", "email": "bench-user@example.com"}, "event": {"id": 1, "title": "Hot event", "facilitator_id": 1, "facilitator_name": "Facilitator 1", "facilitator_email": "bench-facilitator-1@example.com", "start_datetime": "2027-11-30T05:43:10+00:00", "end_datetime": "2027-11-30T06:43:10+00:00", "timezone": "Asia/Kolkata", "location": "Main hall", "virtual_link": null}, "amount": 0.0, "currency": "INR", "status": "confirmed", "payment_status": "completed"}', 'sent', 0, now(), NULL, NULL, now(), NULL) RETURNING outbox.id;
COMMIT;
