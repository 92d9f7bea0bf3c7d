"""Digest subscriptions: subscribe (double opt-in), confirm, unsubscribe, forget.

Anyone may subscribe an address; nothing but a confirmation mail is ever sent to it until
its owner follows that mail's link. Subscribing again, or with an address already
confirmed, answers the same (the caller shows one message whatever happened) and mails the
address at most once a day: ``subscribe`` returns the subscription to mail, or None when
one went out within the day. A confirmed subscription's choices change only through a
confirmation link (or ``set_for_account``, the signed-in owner of a confirmed account address),
so a stranger who types a subscriber's address changes nothing.
Unconfirmed rows are forgotten after ``PENDING_DAYS`` (the worker's ``subscriptions`` job).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy.exc import IntegrityError

from dailypapers.digest.links import read_confirm_token, read_unsubscribe_token
from dailypapers.mail import parse_address
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store import subscriptions as sql
from dailypapers.store.batches import utc_now

Frequency = Literal["daily", "weekly"]
FREQUENCIES: tuple[Frequency, ...] = get_args(Frequency)
PENDING_DAYS = 7
MAIL_GAP = timedelta(days=1)  # at most one confirmation mail a day per address
MAX_BOUNCES = 3


class SubscriptionError(ValueError):
    """A choice or a link that cannot be used; the message says why (shown as is)."""


@dataclass(frozen=True)
class Subscription:
    id: int
    email: str
    frequency: Frequency
    categories: tuple[str, ...]  # empty: every category the site covers
    status: str  # pending, confirmed, bounced
    bounces: int
    created_at: datetime
    confirmed_at: datetime | None
    last_mail_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Subscription:
        values = dict(row)
        values.pop("email_key")
        values["categories"] = split_categories(values["categories"])
        return cls(**values)


def split_categories(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split(",") if part)


def email_key(address: str) -> str:
    return address.strip().casefold()


def clean_address(text: str) -> str:
    """The bare address (``ada@example.org``) of what was typed; SubscriptionError if bad."""
    try:
        address = parse_address(text.strip())
    except ValueError:
        raise SubscriptionError("that does not look like an email address") from None
    if address.display_name:
        raise SubscriptionError("give the address alone, such as ada@example.org")
    return address.addr_spec


def clean_choices(
    settings: Settings, frequency: str, categories: list[str] | tuple[str, ...]
) -> tuple[Frequency, tuple[str, ...]]:
    """A frequency and categories among the site's; all of them means none chosen (all)."""
    if frequency not in FREQUENCIES:
        raise SubscriptionError("choose daily or weekly")
    unknown = [name for name in categories if name not in settings.categories]
    if unknown:
        raise SubscriptionError(f"unknown category {unknown[0][:40]!r}")
    chosen = tuple(name for name in settings.categories if name in categories)
    if set(chosen) == set(settings.categories):
        chosen = ()
    return frequency, chosen


def subscribe(
    store: Store,
    settings: Settings,
    email: str,
    frequency: str,
    categories: list[str] | tuple[str, ...] = (),
    *,
    now: datetime | None = None,
) -> tuple[Subscription, dict[str, Any]] | None:
    """Record the wish to subscribe; the subscription and the confirmation link's payload to
    mail, or None when this address was mailed within the day (nothing to send)."""
    address = clean_address(email)
    chosen_frequency, chosen = clean_choices(settings, frequency, categories)
    now = now or utc_now()
    key = email_key(address)
    for _attempt in range(2):  # a concurrent first subscription of the same address
        try:
            with store.write() as connection:
                row = sql.subscription_by_key(connection, key)
                if row is None:
                    values = {
                        "email": address, "email_key": key, "frequency": chosen_frequency,
                        "categories": ",".join(chosen), "status": "pending", "bounces": 0,
                        "created_at": now, "last_mail_at": now,
                    }  # fmt: skip
                    sql.insert_subscription(connection, values)
                elif row["last_mail_at"] is not None and now - row["last_mail_at"] < MAIL_GAP:
                    return None
                else:
                    sql.update_subscription(connection, row["id"], {"last_mail_at": now})
                found = sql.subscription_by_key(connection, key)
        except IntegrityError:
            continue
        assert found is not None
        payload = {"s": found["id"], "e": key, "f": chosen_frequency, "c": list(chosen)}
        return Subscription.from_row(found), payload
    return None


def confirm(
    store: Store, settings: Settings, token: str, *, now: datetime | None = None
) -> Subscription:
    """Follow a confirmation link: the subscription is confirmed with the link's choices."""
    payload = read_confirm_token(settings, token)
    frequency, chosen = clean_choices(settings, str(payload.get("f")), payload.get("c") or [])
    with store.write() as connection:
        row = sql.subscription_by_id(connection, int(payload.get("s", 0)))
        if row is None or row["email_key"] != payload.get("e"):
            raise SubscriptionError("this subscription no longer exists; subscribe again")
        values = {
            "status": "confirmed", "bounces": 0, "frequency": frequency,
            "categories": ",".join(chosen), "confirmed_at": row["confirmed_at"] or now or utc_now(),
        }  # fmt: skip
        sql.update_subscription(connection, row["id"], values)
        found = sql.subscription_by_id(connection, row["id"])
    assert found is not None
    return Subscription.from_row(found)


def by_unsubscribe_token(store: Store, settings: Settings, token: str) -> Subscription | None:
    """The subscription an unsubscribe link names, None when it is gone already."""
    payload = read_unsubscribe_token(settings, token)
    with store.read() as connection:
        row = sql.subscription_by_id(connection, int(payload.get("s", 0)))
    if row is None or row["email_key"] != payload.get("e"):
        return None
    return Subscription.from_row(row)


def unsubscribe(store: Store, settings: Settings, token: str) -> bool:
    """Delete what an unsubscribe link names (its deliveries go with it); False if gone."""
    payload = read_unsubscribe_token(settings, token)
    with store.write() as connection:
        row = sql.subscription_by_id(connection, int(payload.get("s", 0)))
        if row is None or row["email_key"] != payload.get("e"):
            return False
        return sql.delete_subscription(connection, row["id"])


def forget_unconfirmed(store: Store, *, now: datetime | None = None) -> int:
    """Delete subscriptions left unconfirmed for ``PENDING_DAYS``; how many."""
    before = (now or utc_now()) - timedelta(days=PENDING_DAYS)
    with store.write() as connection:
        return sql.delete_pending_before(connection, before)


def add_subscriber(
    store: Store,
    settings: Settings,
    email: str,
    frequency: str = "daily",
    categories: list[str] | tuple[str, ...] = (),
    *,
    confirmed: bool = False,
) -> tuple[Subscription, bool]:
    """The operator's import: the subscription and whether it is new. ``confirmed`` is for
    lists whose consent the operator holds; otherwise it is pending (mail it a link)."""
    address = clean_address(email)
    chosen_frequency, chosen = clean_choices(settings, frequency, categories)
    now = utc_now()
    values: dict[str, Any] = {"frequency": chosen_frequency, "categories": ",".join(chosen)}
    if confirmed:
        values.update(status="confirmed", confirmed_at=now, bounces=0)
    with store.write() as connection:
        row = sql.subscription_by_key(connection, email_key(address))
        new = row is None
        if row is None:
            values.setdefault("status", "pending")
            sql.insert_subscription(
                connection,
                {"email": address, "email_key": email_key(address), "bounces": 0,
                 "created_at": now, **values},
            )  # fmt: skip
        else:
            sql.update_subscription(connection, row["id"], values)
        found = sql.subscription_by_key(connection, email_key(address))
    assert found is not None
    return Subscription.from_row(found), new


def all_subscriptions(store: Store) -> list[Subscription]:
    with store.read() as connection:
        return [Subscription.from_row(row) for row in sql.list_subscriptions(connection)]


def remove_subscriber(store: Store, email: str) -> bool:
    """Delete the subscription of ``email`` (and its deliveries); False if there is none."""
    with store.write() as connection:
        row = sql.subscription_by_key(connection, email_key(email))
        return row is not None and sql.delete_subscription(connection, row["id"])


def of_address(store: Store, email: str) -> Subscription | None:
    """The subscription of ``email`` (any status), None if there is none."""
    with store.read() as connection:
        row = sql.subscription_by_key(connection, email_key(email))
    return None if row is None else Subscription.from_row(row)


def set_for_account(
    store: Store,
    settings: Settings,
    email: str,
    frequency: str,
    categories: list[str] | tuple[str, ...] = (),
    *,
    now: datetime | None = None,
) -> Subscription:
    """Subscribe a signed-in account's confirmed address, or change its choices: confirmed
    at once (confirming the account's address was the opt-in), bounces counted anew."""
    address = clean_address(email)
    chosen_frequency, chosen = clean_choices(settings, frequency, categories)
    now = now or utc_now()
    key = email_key(address)
    values: dict[str, Any] = {
        "frequency": chosen_frequency, "categories": ",".join(chosen), "status": "confirmed",
        "bounces": 0,
    }  # fmt: skip
    for _attempt in range(2):  # a concurrent first subscription of the same address
        try:
            with store.write() as connection:
                row = sql.subscription_by_key(connection, key)
                if row is None:
                    sql.insert_subscription(
                        connection,
                        {"email": address, "email_key": key, "created_at": now,
                         "confirmed_at": now, **values},
                    )  # fmt: skip
                else:
                    values["confirmed_at"] = row["confirmed_at"] or now
                    sql.update_subscription(connection, row["id"], values)
                found = sql.subscription_by_key(connection, key)
        except IntegrityError:
            continue
        assert found is not None
        return Subscription.from_row(found)
    raise SubscriptionError("the subscription changed at the same time; try again")
