"""Email digests: subscriptions with double opt-in (``subscriptions``), their signed links
(``links``) and the confirmation mail (``mails``).

Web routes (``web/pages/subscribe.py``) and the command line (``cli/mail.py``) call this
package; its SQL is in ``store/subscriptions.py``. Addresses are only ever shown to the
operator's command line, never in pages, feeds or the API.
"""
