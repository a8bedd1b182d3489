"""Series tests run against the payments suite's app: a real process on a database of its own,
the real `razorpay` client against the loopback fake (paid sessions get refunded on cancel)."""

from tests.payments.conftest import app, fake_razorpay, razorpay_app  # noqa: F401
