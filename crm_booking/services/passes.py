"""Class passes (issue 17): products a facilitator sells, purchases paid through the same
gateway machinery as bookings, and the credits bookings use.

Money: a purchase gets a gateway order like a booking. Every captured payment on that order goes
through ONE function, `apply_captured` (success callback, webhook, reconcile job), so it ends as
exactly one active pass or one recorded refund (a second payment on an order already paid, or
a payment on a purchase given up). Gateway calls happen only after the commit.

Credits: a booking paid with a pass locks the purchase row (FOR UPDATE) after the booking and
the event's seat (the one lock order: event -> bookings -> pass purchase -> payments/refunds)
and takes one credit; the CHECK `credits_left >= 0` backs it. See docs/decisions/class-passes.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from crm_booking import clock, pause
from crm_booking.db import lock_for_update, read_session, reread, transaction
from crm_booking.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from crm_booking.gateways.payments import GatewayFailure, SandboxGateway, get_gateway
from crm_booking.models import (
    Booking,
    CreditUse,
    Event,
    PassCredit,
    PassProduct,
    PassPurchase,
    PassStatus,
    Payment,
    Refund,
    Role,
    User,
)
from crm_booking.services import checkout_links, notifications, refund
from crm_booking.services.notifications import PassAction
from crm_booking.services.views import money

log = logging.getLogger(__name__)

REFERENCE_PREFIX = "PASS"
# A pending purchase of the same product is offered again for this long (one order, one
# checkout, however often "Buy" is pressed), instead of a new order each time.
REUSE_PENDING_FOR = timedelta(hours=24)


# --- products -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductRow:
    product: PassProduct
    facilitator: User


MAX_CREDITS = 500
MAX_VALID_DAYS = 3660
MAX_PRICE = Decimal("10000000")
EVENT_TYPES = ("session", "workshop", "retreat")


def product_problems(*, name: str, credits: int, valid_days: int, price: Decimal,
                     event_type: str | None) -> dict[str, str]:
    """The rules of a pass product, worded per field (the API's and the dashboard's)."""
    problems = {}
    if not name.strip() or len(name) > 120:
        problems["name"] = "Give the pass a name of at most 120 characters"
    if not 1 <= credits <= MAX_CREDITS:
        problems["credits"] = f"Must be a whole number from 1 to {MAX_CREDITS}"
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        problems["valid_days"] = f"Must be a whole number of days from 1 to {MAX_VALID_DAYS}"
    if not Decimal("0") < price <= MAX_PRICE or price != price.quantize(Decimal("0.01")):
        problems["price"] = "Must be more than 0, in rupees with at most 2 decimals"
    if event_type is not None and event_type not in EVENT_TYPES:
        problems["event_type"] = "Must be session, workshop or retreat (or empty for all)"
    return problems


def define_product(*, actor_id: int, name: str, credits: int, valid_days: int, price: Decimal,
                   event_type: str | None) -> ProductRow:
    """A facilitator (or an admin) defines a pass for their own events."""
    problems = product_problems(name=name, credits=credits, valid_days=valid_days, price=price,
                                event_type=event_type)
    with transaction() as session:
        actor = session.get(User, actor_id)
        if actor is None or actor.role not in (Role.FACILITATOR.value, Role.ADMIN.value):
            raise Forbidden("Only facilitators can sell class passes")
        if problems:
            raise ValidationFailed(problems)
        product = PassProduct(facilitator_id=actor_id, name=name.strip(), credits=credits,
                              valid_days=valid_days, price=price, event_type=event_type)
        session.add(product)
        session.flush()
        return ProductRow(product, actor)


def active_products(*, facilitator_id: int | None = None) -> list[ProductRow]:
    query = (select(PassProduct, User).join(User, col(User.id) == PassProduct.facilitator_id)
             .where(col(PassProduct.is_active).is_(True), col(User.is_active).is_(True))
             .order_by(col(PassProduct.id)))
    if facilitator_id is not None:
        query = query.where(PassProduct.facilitator_id == facilitator_id)
    with read_session() as session:
        return [ProductRow(p, u) for p, u in session.exec(query)]


@dataclass(frozen=True)
class ProductSales:
    product: PassProduct
    sold: int           # purchases paid (active or since expired)
    revenue: Decimal    # what those purchases paid
    credits_used: int   # credits currently spent on bookings (used or forfeited)


def sales(*, actor_id: int) -> list[ProductSales]:
    """The facilitator's pass products with what they sold and how many credits were spent."""
    with read_session() as session:
        actor = session.get(User, actor_id)
        if actor is None or actor.role not in (Role.FACILITATOR.value, Role.ADMIN.value):
            raise Forbidden("Only facilitators can sell class passes")
        products = session.exec(select(PassProduct).where(PassProduct.facilitator_id == actor_id)
                                .order_by(col(PassProduct.id))).all()
        paid = [PassStatus.ACTIVE.value, PassStatus.EXPIRED.value]
        totals = {pid: (int(n), Decimal(total or 0)) for pid, n, total in session.exec(
            select(PassPurchase.product_id, sa.func.count(), sa.func.sum(PassPurchase.amount))
            .where(col(PassPurchase.status).in_(paid)).group_by(col(PassPurchase.product_id))
        ).all()}
        used = dict(session.exec(  # type: ignore[arg-type]
            select(PassPurchase.product_id, sa.func.count())
            .join(PassCredit, col(PassCredit.pass_purchase_id) == PassPurchase.id)
            .where(col(PassCredit.status) != CreditUse.RETURNED.value)
            .group_by(col(PassPurchase.product_id))).all())
    return [ProductSales(p, *totals.get(p.id, (0, Decimal(0))),  # type: ignore[arg-type]
                         int(used.get(p.id or 0, 0))) for p in products]


def set_product_active(*, actor_id: int, product_id: int, active: bool) -> PassProduct:
    """Stop (or resume) selling a product; passes already bought keep working."""
    with transaction() as session:
        product = session.get(PassProduct, product_id)
        actor = session.get(User, actor_id)
        if product is None:
            raise NotFound("Pass not found")
        _ensure_seller(actor, product)
        product.is_active = active
        session.add(product)
        return product


def _ensure_seller(actor: User | None, product: PassProduct) -> None:
    if actor is not None and actor.role == Role.ADMIN.value:
        return
    if actor is None or actor.id != product.facilitator_id:
        raise Forbidden("You can only manage your own passes")


# --- purchase and checkout --------------------------------------------------------------------


def reference(purchase_id: int) -> str:
    return f"{REFERENCE_PREFIX}{purchase_id}"


def is_pass_reference(value: str) -> bool:
    return value.startswith(REFERENCE_PREFIX) and value[len(REFERENCE_PREFIX):].isdigit()


def checkout_token(purchase_id: int) -> str:
    return checkout_links.token_for(f"pass-checkout:{purchase_id}")


def checkout_url(purchase_id: int) -> str:
    return checkout_links.page_url(reference(purchase_id), checkout_token(purchase_id))


@dataclass(frozen=True)
class PurchaseRow:
    purchase: PassPurchase
    product: PassProduct


def start_purchase(*, user_id: int, product_id: int) -> tuple[PurchaseRow, str]:
    """A pending purchase of an active product (the same pending one when it exists) and its
    checkout link. The gateway order is created after the commit; when the gateway is down,
    the checkout page creates it when it opens."""
    now = clock.now()
    with transaction() as session:
        user = session.get(User, user_id)
        product = session.get(PassProduct, product_id)
        if user is None or not user.is_active:
            raise NotFound("User not found")
        if product is None or not product.is_active:
            raise NotFound("Pass not found")
        purchase = session.exec(select(PassPurchase).where(
            PassPurchase.user_id == user_id, PassPurchase.product_id == product_id,
            PassPurchase.status == PassStatus.PENDING.value,
            col(PassPurchase.created_at) > now - REUSE_PENDING_FOR,
            col(PassPurchase.amount) == product.price,
        ).order_by(col(PassPurchase.id).desc())).first()
        if purchase is None:
            purchase = PassPurchase(user_id=user_id, product_id=product_id,
                                    credits_total=product.credits, credits_left=0,
                                    amount=product.price, currency=product.currency,
                                    created_at=now, updated_at=now)
            session.add(purchase)
            session.flush()
    assert purchase.id is not None
    try:
        purchase = ensure_order(purchase.id)
    except GatewayFailure as failure:
        log.warning("order for pass purchase %s not created yet: %s", purchase.id, failure)
    return PurchaseRow(purchase, product), checkout_url(purchase.id)  # type: ignore[arg-type]


def ensure_order(purchase_id: int) -> PassPurchase:
    """Create the gateway order once (outside any lock) and remember it on the purchase."""
    with read_session() as session:
        purchase = session.get(PassPurchase, purchase_id)
        assert purchase is not None
    if purchase.razorpay_order_id or purchase.status != PassStatus.PENDING.value:
        return purchase
    order_id = get_gateway().create_order(
        amount_paise=refund.to_paise(purchase.amount), currency=purchase.currency,
        receipt=reference(purchase_id),
        notes={"pass_purchase_id": str(purchase_id), "user_id": str(purchase.user_id),
               "pass_reference": reference(purchase_id),
               "pass_created_at": clock.as_utc(purchase.created_at).isoformat()},
    )
    with transaction() as session:
        stored = session.get(PassPurchase, purchase_id)
        assert stored is not None
        if stored.razorpay_order_id is None:
            stored.razorpay_order_id = order_id
            session.add(stored)
        return stored


def owns_order(order_id: str) -> bool:
    with read_session() as session:
        return session.exec(select(PassPurchase.id).where(
            PassPurchase.razorpay_order_id == order_id)).first() is not None


def orders_among(order_ids: list[str]) -> set[str]:
    if not order_ids:
        return set()
    with read_session() as session:
        return {str(o) for o in session.exec(select(PassPurchase.razorpay_order_id).where(
            col(PassPurchase.razorpay_order_id).in_(order_ids))).all()}


# --- applying captured payments -----------------------------------------------------------------


@dataclass(frozen=True)
class PassApplied:
    purchase: PassPurchase
    product: PassProduct
    activated: bool          # False: a repeat, or this payment is being refunded
    refund: Refund | None = None


def _lock_purchase(session: Session, condition: Any) -> PassPurchase | None:
    """FOR NO KEY UPDATE, like the event lock: a booking row inserted with `pass_purchase_id`
    takes FOR KEY SHARE on this row (its foreign key), which FOR UPDATE would wait for; two
    bookings on the same pass then deadlocked (found by the ten-bookings test, 503). NO KEY
    UPDATE still excludes every other writer of the row, so credits are counted one at a time."""
    query = select(PassPurchase).where(condition).execution_options(populate_existing=True)
    return session.exec(lock_for_update(session, query, key_share=True)).first()


def apply_captured(*, order_id: str, payment_id: str, amount_paise: int | None = None,
                   send_refund: bool = True) -> PassApplied:
    """Apply one captured payment to its pass purchase, whichever channel reported it.
    Idempotent: the payment row (unique gateway id) says it was applied already."""
    with transaction() as session:
        purchase = _lock_purchase(session, col(PassPurchase.razorpay_order_id) == order_id)
        if purchase is None:
            raise NotFound("Pass purchase not found")
        pause.point("apply_pass_payment.locked")
        applied = _apply_in(session, purchase, payment_id, amount_paise)
        refund_id = applied.refund.id if applied.refund is not None else None
        fresh_refund = refund_id is not None and not applied.activated
    if fresh_refund and send_refund and applied.refund is not None \
            and applied.refund.status == "pending" and not applied.refund.razorpay_refund_id:
        processed = refund.process(refund_id)  # type: ignore[arg-type]
        return PassApplied(reread(PassPurchase, applied.purchase.id), applied.product, False, processed)  # type: ignore[arg-type]
    return applied


def _apply_in(session: Session, purchase: PassPurchase, payment_id: str,
              amount_paise: int | None) -> PassApplied:
    product = session.get(PassProduct, purchase.product_id)
    assert product is not None
    known = session.exec(select(Payment).where(Payment.razorpay_payment_id == payment_id)).first()
    if known is not None and known.status == "captured":
        owed = session.exec(select(Refund).where(Refund.razorpay_payment_id == payment_id)).first()
        return PassApplied(purchase, product, False, owed)
    payment_row = _record_payment(session, purchase, known, payment_id, amount_paise)
    if purchase.status == PassStatus.PENDING.value:
        return _activate(session, purchase, product, payment_id)
    # Paid already (a second payment on the same order), or given up: this one goes back.
    reason = ("duplicate_payment" if purchase.payment_id and purchase.payment_id != payment_id
              else "late_payment")
    pending = refund.record_for_pass(session, purchase, payment_id=payment_id,
                                     amount=payment_row.amount, reason=reason)
    attendee, facilitator = _people(session, purchase, product)
    notifications.enqueue_pass(
        session, action=PassAction.PAYMENT_REFUNDED, purchase_id=purchase.id,  # type: ignore[arg-type]
        key_suffix=payment_id, pass_name=product.name, attendee=attendee, facilitator=facilitator,
        extra={"payment_id": payment_id, "reason": reason, "refund": refund.summary(pending),
               "amount": money(payment_row.amount), "currency": purchase.currency})
    return PassApplied(purchase, product, False, pending)


def _record_payment(session: Session, purchase: PassPurchase, known: Payment | None,
                    payment_id: str, amount_paise: int | None) -> Payment:
    row = known or Payment(pass_purchase_id=purchase.id, razorpay_payment_id=payment_id,
                           status="captured")
    row.razorpay_order_id = purchase.razorpay_order_id
    row.amount = (Decimal(amount_paise) / 100) if amount_paise is not None else purchase.amount
    row.currency = purchase.currency
    row.status = "captured"
    row.error_code = None
    row.error_description = None
    session.add(row)
    session.flush()
    return row


def _activate(session: Session, purchase: PassPurchase, product: PassProduct,
              payment_id: str) -> PassApplied:
    now = clock.now()
    purchase.status = PassStatus.ACTIVE.value
    purchase.payment_id = payment_id
    purchase.paid_at = now
    # Validity runs from the payment, not from the order: a pass paid late is not shortened.
    purchase.expires_at = now + timedelta(days=product.valid_days)
    purchase.credits_left = purchase.credits_total
    purchase.updated_at = now
    session.add(purchase)
    session.flush()
    attendee, facilitator = _people(session, purchase, product)
    notifications.enqueue_pass(
        session, action=PassAction.PURCHASED, purchase_id=purchase.id,  # type: ignore[arg-type]
        pass_name=product.name, attendee=attendee, facilitator=facilitator,
        extra={"payment_id": payment_id, "amount": money(purchase.amount),
               "currency": purchase.currency, "credits": purchase.credits_total,
               "expires_at": clock.as_utc(purchase.expires_at).isoformat(),
               "payment_status": "completed", "status": purchase.status})
    return PassApplied(purchase, product, True)


def _people(session: Session, purchase: PassPurchase, product: PassProduct) -> tuple[User, User]:
    attendee = session.get(User, purchase.user_id)
    facilitator = session.get(User, product.facilitator_id)
    assert attendee is not None and facilitator is not None
    return attendee, facilitator


def record_failure(*, order_id: str, payment_id: str | None, error_code: str | None,
                   error_description: str | None) -> PurchaseRow:
    """A failed attempt is written down; the purchase stays pending and can be paid again. A
    failure never overrides a success."""
    with transaction() as session:
        purchase = _lock_purchase(session, col(PassPurchase.razorpay_order_id) == order_id)
        if purchase is None:
            raise NotFound("Pass purchase not found")
        product = session.get(PassProduct, purchase.product_id)
        assert product is not None
        known = payment_id and session.exec(
            select(Payment.id).where(Payment.razorpay_payment_id == payment_id)).first()
        if payment_id and not known:
            session.add(Payment(
                pass_purchase_id=purchase.id, razorpay_payment_id=payment_id,
                razorpay_order_id=order_id, amount=purchase.amount, currency=purchase.currency,
                status="failed", error_code=(error_code or None) and error_code[:100],
                error_description=(error_description or None) and error_description[:500]))
        return PurchaseRow(purchase, product)


# --- the checkout page --------------------------------------------------------------------------


@dataclass(frozen=True)
class PassCheckoutPage:
    purchase: PassPurchase
    product: PassProduct
    gateway: str
    key_id: str
    payable: bool
    prefill: dict[str, str]


def open_checkout(ref: str, token: str) -> PassCheckoutPage:
    purchase_id = int(ref[len(REFERENCE_PREFIX):]) if is_pass_reference(ref) else 0
    if not checkout_links.token_matches(checkout_token(purchase_id), token):
        raise NotFound("Pass purchase not found")
    with read_session() as session:
        purchase = session.get(PassPurchase, purchase_id)
        if purchase is None:
            raise NotFound("Pass purchase not found")
        product = session.get(PassProduct, purchase.product_id)
        attendee = session.get(User, purchase.user_id)
        assert product is not None
    payable = purchase.status == PassStatus.PENDING.value
    if payable and purchase.razorpay_order_id is None:
        purchase = ensure_order(purchase_id)
    gateway = get_gateway()
    return PassCheckoutPage(purchase, product, gateway.name, gateway.key_id, payable,
                            checkout_links.prefill(attendee))


def sandbox_callback(ref: str, token: str, *, succeed: bool) -> dict[str, str]:
    """The sandbox checkout's buttons for a pass: a made-up payment signed with the sandbox
    secret, posted by the page to /payment/success or /payment/failure like a real one."""
    gateway = get_gateway()
    if not isinstance(gateway, SandboxGateway):
        raise NotFound("Resource not found")
    page = open_checkout(ref, token)
    if not page.payable or page.purchase.razorpay_order_id is None:
        raise BadRequest("This pass cannot be paid now")
    return gateway.checkout_fields(page.purchase.razorpay_order_id, succeed=succeed)


# --- reading an attendee's passes -----------------------------------------------------------------


def shown_status(purchase: PassPurchase, now: datetime | None = None) -> str:
    """`expired` is computed on read: an active pass past its expiry is expired for everyone at
    the same instant, without a job having to run first."""
    if purchase.status == PassStatus.ACTIVE.value and purchase.expires_at is not None \
            and clock.as_utc(purchase.expires_at) <= (now or clock.now()):
        return PassStatus.EXPIRED.value
    return purchase.status


@dataclass(frozen=True)
class CreditRow:
    credit: PassCredit
    booking: Booking
    event: Event


@dataclass(frozen=True)
class OwnedPass:
    purchase: PassPurchase
    product: PassProduct
    history: list[CreditRow]


def my_passes(*, user_id: int, include_pending: bool = False) -> list[OwnedPass]:
    """The attendee's passes, newest first, each with what every credit paid for."""
    statuses = [PassStatus.ACTIVE.value, PassStatus.EXPIRED.value, PassStatus.REFUNDED.value]
    if include_pending:
        statuses.append(PassStatus.PENDING.value)
    with read_session() as session:
        rows = session.exec(
            select(PassPurchase, PassProduct)
            .join(PassProduct, col(PassProduct.id) == PassPurchase.product_id)
            .where(PassPurchase.user_id == user_id, col(PassPurchase.status).in_(statuses))
            .order_by(col(PassPurchase.id).desc())).all()
        ids = [p.id for p, _ in rows]
        credits = session.exec(
            select(PassCredit, Booking, Event)
            .join(Booking, col(Booking.id) == PassCredit.booking_id)
            .join(Event, col(Event.id) == Booking.event_id)
            .where(col(PassCredit.pass_purchase_id).in_(ids))
            .order_by(col(PassCredit.used_at).desc(), col(PassCredit.id).desc())).all() if ids else []
    history: dict[int, list[CreditRow]] = {}
    for credit, booking, event in credits:
        history.setdefault(credit.pass_purchase_id, []).append(CreditRow(credit, booking, event))
    return [OwnedPass(p, prod, history.get(p.id, [])) for p, prod in rows]  # type: ignore[arg-type]


def usable_for(*, user_id: int, event: Event) -> list[OwnedPass]:
    """The attendee's passes that could pay for this event right now (for the event page)."""
    now = clock.now()
    return [owned for owned in my_passes(user_id=user_id)
            if _refusal(owned.purchase, owned.product, event, user_id, now) is None]


# --- paying a booking with a credit -------------------------------------------------------------


def _refusal(purchase: PassPurchase, product: PassProduct, event: Event, user_id: int,
             now: datetime) -> str | None:
    """Why this pass cannot pay for this event now, in words for the attendee; None if it can."""
    if purchase.user_id != user_id:
        return "This pass is not yours"
    if purchase.status == PassStatus.PENDING.value:
        return "This pass is not paid yet"
    if purchase.status != PassStatus.ACTIVE.value:
        return f"This pass is {purchase.status} and cannot be used"
    if shown_status(purchase, now) == PassStatus.EXPIRED.value:
        return "This pass has expired"
    if purchase.credits_left <= 0:
        return "This pass has no credits left"
    if event.facilitator_id != product.facilitator_id:
        return "This pass is not valid for this organiser's events"
    if product.event_type is not None and event.event_type != product.event_type:
        return f"This pass is only valid for {product.event_type} events"
    if event.price <= 0:
        return "This event is free; no pass is needed"
    return None


def check_usable(session: Session, *, pass_id: int, user_id: int, event: Event) -> PassPurchase:
    """The unlocked check before a booking is written: a clear 400 early. Someone else's pass
    answers like a missing one ("not found" in the 400), so ids cannot be probed."""
    found = session.exec(select(PassPurchase, PassProduct)
                         .join(PassProduct, col(PassProduct.id) == PassPurchase.product_id)
                         .where(PassPurchase.id == pass_id)).first()
    if found is None or found[0].user_id != user_id:
        raise BadRequest("Pass not found: use the id of one of your passes (GET /me/passes)")
    problem = _refusal(found[0], found[1], event, user_id, clock.now())
    if problem:
        raise BadRequest(problem)
    return found[0]


def use_credit(session: Session, *, pass_id: int, user_id: int, booking: Booking,
               event: Event) -> PassPurchase:
    """Inside the booking transaction, after the seat was taken (the event row is locked):
    lock the pass, check it again and take one credit. Two bookings on two devices queue on
    this row lock; the second sees the first one's credit gone."""
    purchase = _lock_purchase(session, col(PassPurchase.id) == pass_id)
    product = session.get(PassProduct, purchase.product_id) if purchase is not None else None
    if purchase is None or product is None or purchase.user_id != user_id:
        raise BadRequest("Pass not found: use the id of one of your passes (GET /me/passes)")
    pause.point("use_credit.locked")
    problem = _refusal(purchase, product, event, user_id, clock.now())
    if problem:
        raise BadRequest(problem)
    purchase.credits_left -= 1
    purchase.updated_at = clock.now()
    session.add(purchase)
    session.add(PassCredit(pass_purchase_id=purchase.id, booking_id=booking.id,  # type: ignore[arg-type]
                           status=CreditUse.USED.value, used_at=clock.now()))
    session.flush()
    return purchase


def settle_credit(session: Session, booking: Booking, *, give_back: bool) -> PassCredit | None:
    """When a booking paid with a pass is cancelled (caller holds event and booking locks):
    the credit comes back (inside the policy's 100% tier, or the event was cancelled) or is
    forfeited. Locks the pass after the booking, the one lock order."""
    if booking.pass_purchase_id is None:
        return None
    purchase = _lock_purchase(session, col(PassPurchase.id) == booking.pass_purchase_id)
    credit = session.exec(select(PassCredit).where(PassCredit.booking_id == booking.id)).first()
    if purchase is None or credit is None or credit.status != CreditUse.USED.value:
        return credit
    now = clock.now()
    credit.status = CreditUse.RETURNED.value if give_back else CreditUse.FORFEITED.value
    credit.settled_at = now
    session.add(credit)
    if give_back:
        purchase.credits_left += 1
        purchase.updated_at = now
        session.add(purchase)
    session.flush()
    return credit


# --- refunds of pass payments -------------------------------------------------------------------


def mark_refunded(session: Session, stored: Refund) -> None:
    """A processed refund of the purchase's OWN payment (never of a duplicate) ends the pass."""
    purchase = session.get(PassPurchase, stored.pass_purchase_id)
    if (purchase is not None and purchase.payment_id == stored.razorpay_payment_id
            and purchase.status != PassStatus.REFUNDED.value):
        purchase.status = PassStatus.REFUNDED.value
        purchase.credits_left = 0
        purchase.updated_at = clock.now()
        session.add(purchase)


def seller_of(session: Session, purchase_id: int) -> tuple[PassPurchase, PassProduct, User] | None:
    found = session.exec(
        select(PassPurchase, PassProduct, User)
        .join(PassProduct, col(PassProduct.id) == PassPurchase.product_id)
        .join(User, col(User.id) == PassPurchase.user_id)
        .where(PassPurchase.id == purchase_id)).first()
    return (found[0], found[1], found[2]) if found else None


def ensure_can_manage_purchase(actor: User, product: PassProduct) -> None:
    _ensure_seller(actor, product)
