"""A bounded, repeatable fuzz of every seller endpoint: forged and malformed fields, query strings and headers,
GET, HEAD and POST, with and without htmx and CSRF. Whatever arrives, the answer is never a 500.

The test client re-raises any exception a view lets escape, so a crash fails the test with its traceback. The seed
is fixed, so a failure replays exactly; FUZZ_SEED and FUZZ_REQUESTS explore further.
"""

import os
import random
import uuid
from urllib.parse import quote

import pytest
from django.test import Client

from tests.factories import choice, first_step
from troubleshoot import versioncache, walk
from troubleshoot.models import Article, Category, Run

pytestmark = pytest.mark.django_db

SEED = int(os.environ.get("FUZZ_SEED", "20261127"))
REQUESTS = int(os.environ.get("FUZZ_REQUESTS", "600"))

NASTY = [
    "", " ", "\x00", "a\x00b", "%00", "0", "-1", "1.5", "1e9", "NaN", str(2**31), str(2**63), str(2**70),
    "null", "[]", "{}", "true", "<script>alert(1)</script>", "' OR 1=1 --", "\"; DROP TABLE run; --",
    "\r\nBcc: x@evil.test", "\t", "\u2028", "\ufeff", "😀" * 40, "Ü" * 300, "A" * 5_000, "B" * 70_000,
    "../../etc/passwd", "javascript:alert(1)", "http://[", "https://example.com/", "seller@shop.test",
    "NEAR(a b)", 'title:"x" OR *', "\\", "%", "_", "email", "app", "search",
]  # fmt: skip
HEADERS = [
    {},
    {"HTTP_HX_REQUEST": "true"},
    {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://["},
    {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "\x00://"},
    {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "<b>", "HTTP_HX_TRIGGER": "\r\n"},
    {"HTTP_HX_REQUEST": "false", "HTTP_HX_BOOSTED": "true"},
    {"HTTP_REFERER": "http://[", "HTTP_USER_AGENT": "\x00" * 10},
    {"HTTP_ACCEPT": "application/json", "HTTP_ACCEPT_LANGUAGE": "xx-" + "y" * 300},
]
FIELDS = ["run", "step", "path", "answer", "source", "source_detail", "code", "q", "article", "fixed_note",
          "email", "description", "error_message", "settlement_id", "recording_url"]  # fmt: skip


class Fuzzer:
    def __init__(self, rng: random.Random, checker, run: Run, article: Article):
        self.rng, self.checker, self.run, self.article = rng, checker, run, article
        start = first_step(checker)
        # Real values too, so some requests get past the forms and into the walk.
        self.real = [start, str(choice(checker, "start", "Yes")), str(choice(checker, "second", "No")),
                     str(run.pk), str(uuid.uuid4()), checker.slug, "XC-001", str(run.answers.last().pk)]  # fmt: skip

    def value(self) -> str:
        return self.rng.choice(self.real) if self.rng.random() < 0.35 else self.rng.choice(NASTY)

    def fields(self) -> dict:
        names = self.rng.sample(FIELDS, self.rng.randint(0, len(FIELDS)))
        data = {name: self.value() for name in names}
        if self.rng.random() < 0.3:
            # A genuine form with a few fields spoiled, so requests also get past the forms into the walk.
            genuine = {"run": str(uuid.uuid4()), "step": self.real[0], "path": "0",
                       "answer": self.rng.choice([*self.real[1:3], self.real[-1]]), "email": "seller@shop.test",
                       "description": "It hangs."}  # fmt: skip
            spoiled = self.rng.sample(FIELDS, self.rng.randint(0, 2))
            data = genuine | {name: data.get(name, self.value()) for name in spoiled}
        if self.rng.random() < 0.1 and names:
            data[names[0]] = [self.value(), self.value()]  # a field sent twice
        return data

    def slug(self) -> str:
        return quote(self.rng.choice([self.checker.slug, "nope", "Über", "a.b", "%00", "x" * 300]), safe="")

    def run_id(self) -> str:
        return self.rng.choice([str(self.run.pk), str(self.run.pk), str(uuid.uuid4())])

    def path(self) -> str:
        run_page = f"/troubleshoot/{self.checker.slug}/{self.run_id()}/"
        return self.rng.choice([
            "/",
            "/search/",
            f"/articles/{self.article.slug}/",
            f"/articles/{self.slug()}/",
            f"/e/{quote(self.value(), safe='')}/",
            "/e/XC-001/",
            f"/troubleshoot/{self.slug()}/",
            f"/troubleshoot/{self.checker.slug}/start/",
            f"/troubleshoot/{self.slug()}/start/",
            run_page,
            run_page + "answer/",
            run_page + "back/",
            run_page + "note/",
            run_page + "support/",
            f"/troubleshoot/{self.slug()}/{self.run_id()}/answer/",
            f"/troubleshoot/{self.slug()}/preview/",
        ])  # fmt: skip


@pytest.mark.slow
def test_no_seller_endpoint_answers_500_whatever_it_is_sent(checker, library):
    rng = random.Random(SEED)
    article = Article.objects.first()
    assert article is not None and Category.objects.exists()
    start = first_step(checker)
    live = versioncache.flow_of(checker.live_version_id)
    run = walk.start_run(live, uuid.uuid4(), start, choice(checker, "start", "Yes"))
    fuzzer = Fuzzer(rng, checker, run, article)
    clients = [Client(), Client(), Client(enforce_csrf_checks=True)]
    statuses: dict[int, int] = {}
    for i in range(REQUESTS):
        client, path, headers = rng.choice(clients), fuzzer.path(), rng.choice(HEADERS)
        method = rng.choice(["get", "post", "post", "head"])
        try:
            if method == "post" and rng.random() < 0.1:
                body = rng.choice(["{", "a=%ZZ&b", "--x\r\nContent-Disposition: form-data\r\n", "\x00" * 100])
                response = client.post(
                    path,
                    body,
                    content_type=rng.choice(["application/json", "multipart/form-data; boundary=x", "text/plain"]),
                    **headers,
                )  # noqa: E501
            else:
                response = getattr(client, method)(path, fuzzer.fields(), **headers)
        except Exception as error:
            raise AssertionError(f"request {i}: {method.upper()} {path} {headers} raised {error!r}") from error
        assert response.status_code < 500, f"request {i}: {method.upper()} {path} {headers} → {response.status_code}"
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    # The fuzz reached the walk itself, not only the forms' refusals.
    assert statuses.get(200) and statuses.get(302) and statuses.get(422) and statuses.get(404), statuses
    assert Run.objects.count() > 1
