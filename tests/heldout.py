"""Seller phrasings held out from the content: typos, everyday words for what the content says formally, and
pasted errors buried in noise. Written from the content library's checkers, not from the search code; each maps to
the checker a support person would send that seller to."""

HELD_OUT = [
    # Typos
    ("xero keeps saying disconected", "xero-disconnected"),
    ("failed to save acounts in the wizard", "failed-to-save-accounts"),
    ("setlement wont send because of the lock date", "lock-date"),
    ("not permited to acces this resourse", "settlement-not-permitted"),
    ("acount code invalid", "account-mapping-error"),
    ("settlment incorrect staus", "settlement-processing-error"),
    ("conect bookeeping acount screen never loads", "stuck-connect-bookkeeping"),
    ("xero plan tranaction limit", "xero-plan-limit"),
    # Paraphrases and everyday words
    ("my xero connection stopped working after I changed my password", "xero-disconnected"),
    ("the connect bookkeeping account screen is spinning forever", "stuck-connect-bookkeeping"),
    ("setup wizard for my new etsy shop won't get past connect bookkeeping account", "channel-setup-stuck"),
    ("payout rejected because the account code is archived", "account-mapping-error"),
    ("someone deleted an account in xero and now settlements fail", "account-mapping-error"),
    ("debit and credit don't balance", "settlement-processing-error"),
    ("too many requests, xero is throttling us", "xero-api-temporary-error"),
    ("sending to the wrong xero company", "wrong-xero-organisation"),
    ("my settlements are going to the old organisation", "wrong-xero-organisation"),
    ("settlements stopped sending halfway through the month, we're on the starter plan", "xero-plan-limit"),
    ("only some of my sales channels connect, the others give a permission error", "sales-channel-permissions"),
    ("i am not the owner of the amazon account, can i still connect it", "sales-channel-permissions"),
    ("an error pops up when i try to reconnect xero", "connection-error"),
    ("my trial ended and the wizard can't save the accounts", "failed-to-save-accounts"),
    ("xero won't accept a settlement dated in a closed period", "lock-date"),
    # Pasted errors with noise
    (
        '[2026-11-20 10:14:03] ERROR sync#4411: Xero responded 400 {"error":"invalid_grant"} retrying in 30s',
        "xero-disconnected",
    ),
    ("Sync failed: OAuthException: Token has been expired or revoked. (trace id 77ab-19)", "xero-disconnected"),
    ("xero says The document date cannot be before the period lock date, settlement 55512", "lock-date"),
    ("Error 403: You are not permitted to access this resource. Request ID 8f2c-11", "settlement-not-permitted"),
    ("hi, got 'Page Data No Longer Valid!!' on my ebay settlement, help", "settlement-processing-error"),
    ("cURL error 28: Operation timed out after 30000 milliseconds", "xero-api-temporary-error"),
    ("Got an email with code xc-001, what now?", "wrong-xero-organisation"),
    ("METHOD LOCK >> while posting settlement #99812 to xero", "xero-api-temporary-error"),
]
