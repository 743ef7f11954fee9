"""A few synonyms to start with, from how sellers describe the library's problems; staff edit them in the admin."""

from django.db import migrations

STARTER = [
    "payout, settlement, deposit, disbursement",
    "sign in, log in, login, logon",
    "log out, sign out, logged out",
    "spinning, loading, hangs, frozen, stuck, nothing happens",
    "stopped working, disconnected, unlinked, lapsed, expired",
    "permission, permitted, access, rights, authorised",
    "invoice, document, transaction",
    "organisation, organization, org, company",
    "wizard, set-up, setup, onboarding",
    "closed period, lock date, locked",
    "throttled, rate limit, too many requests",
    "won't send, not sending, failed to send, can't send",
    "wrong company, wrong organisation, wrong org",
    "free trial, trial",
    "upgrade, plan, subscription",
]


def add(apps, schema_editor):
    Synonym = apps.get_model("search", "Synonym")
    for terms in STARTER:
        Synonym.objects.get_or_create(terms=terms)


def remove(apps, schema_editor):
    apps.get_model("search", "Synonym").objects.filter(terms__in=STARTER).delete()


class Migration(migrations.Migration):
    dependencies = [("search", "0002_fulltext_index")]

    operations = [migrations.RunPython(add, remove)]
