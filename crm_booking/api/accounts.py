"""Issue 14, the account lifecycle (extensions spec, Accounts): verify an email address, forgot
and reset password, change password, sign out everywhere. Thin: the rules are in
services/accounts.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, Depends
from pydantic import Field

from crm_booking.api.deps import CurrentUser, client_ip
from crm_booking.api.schemas import Message, Strict, UserOut
from crm_booking.services import accounts
from crm_booking.services.views import user_summary

router = APIRouter(prefix="/auth", tags=["auth"])

FORGOT_ANSWER = ("If an account exists for that address, an email with a link to reset its "
                 "password is on its way. The link works once, for one hour.")


class TokenRequest(Strict):
    token: str = Field(max_length=200)


class ForgotPasswordRequest(Strict):
    email: str = Field(max_length=254)


class ResetPasswordRequest(Strict):
    token: str = Field(max_length=200)
    new_password: str = Field(max_length=128)


class ChangePasswordRequest(Strict):
    current_password: str = Field(max_length=128)
    new_password: str = Field(max_length=128)


class VerifiedResponse(Message):
    user: UserOut


class ChangedPasswordResponse(Message):
    access_token: str
    refresh_token: str


@router.post("/verify-email/request", response_model=Message,
             summary="Email a new verification link to the signed-in account")
def request_verification(user: CurrentUser) -> dict[str, str]:
    sent = accounts.request_verification(user.id)  # type: ignore[arg-type]
    return {"message": "Verification email sent" if sent else "Your email address is already verified"}


@router.post("/verify-email", response_model=VerifiedResponse, summary="Confirm an email address")
def verify_email(body: TokenRequest) -> dict:  # type: ignore[type-arg]
    user = accounts.verify_email(body.token)
    return {"message": "Email address verified", "user": user_summary(user)}


@router.post("/forgot-password", response_model=Message, summary="Email a password reset link")
def forgot_password(body: ForgotPasswordRequest, ip: Annotated[str, Depends(client_ip)]) -> dict[str, str]:
    accounts.forgot_password(email=body.email, ip_address=ip)
    return {"message": FORGOT_ANSWER}


@router.post("/reset-password", response_model=Message, summary="Choose a new password with an emailed link")
def reset_password(body: ResetPasswordRequest) -> dict[str, str]:
    accounts.reset_password(token=body.token, new_password=body.new_password)
    return {"message": "Password changed. Every other session was signed out; please sign in again."}


@router.post("/change-password", response_model=ChangedPasswordResponse, summary="Change the password")
def change_password(
    body: ChangePasswordRequest, user: CurrentUser,
    crm_session: Annotated[str | None, Cookie(max_length=200)] = None,
) -> dict[str, str]:
    tokens = accounts.change_password(user_id=user.id, current_password=body.current_password,  # type: ignore[arg-type]
                                      new_password=body.new_password, keep_web_session=crm_session)
    return {"message": "Password changed; other sessions were signed out",
            "access_token": tokens.access_token, "refresh_token": tokens.refresh_token}


@router.post("/logout-all", response_model=Message, summary="Sign out everywhere")
def sign_out_everywhere(user: CurrentUser) -> dict[str, str]:
    accounts.sign_out_everywhere(user_id=user.id)  # type: ignore[arg-type]
    return {"message": "Signed out everywhere"}
